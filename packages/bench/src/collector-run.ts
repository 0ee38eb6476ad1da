/**
 * The collector: the real state machine, in-process with the real handlers (packages/testkit/src/workflow.ts), collecting
 * one explicit hour (BENCH_HOUR) of the entities in ENTITIES from the stand-in into S3, publish and
 * cleanup included. Started by bench.ts with the collector's environment. Prints one JSON line (see result.ts).
 */
import { runExecution } from '@citrix-monitor/testkit/workflow';
import { collectorFromEnv } from '../../../functions/adapters/lambda.ts';
import { fail, finish, need } from './result.ts';

async function main(): Promise<void> {
  const hour = need('BENCH_HOUR');
  let lastStaged = 0;
  let pages = 0;
  // Only the time of the last staged page is kept: it splits fetching from publishing.
  const log = (message: string) => {
    if (message === 'pages staged') {
      lastStaged = performance.now();
      pages += 1;
    }
  };
  const collector = collectorFromEnv({
    env: process.env,
    telemetry: { log, metric: () => {} },
    inAws: false,
  });
  const started = performance.now();
  const outcome = await runExecution(collector, { input: { hour } });
  const seconds = (performance.now() - started) / 1000;
  if (outcome.status !== 'SUCCEEDED') throw new Error(`execution failed: ${outcome.error}: ${outcome.cause}`);
  const committed = outcome.output?.committed ?? [];
  if (committed.length !== 1 || committed[0]?.outcome !== 'published') {
    throw new Error(`expected hour ${hour} published by this run, got ${JSON.stringify(committed)}`);
  }
  finish({ rows: committed[0].rows, pages, seconds, fetchSeconds: (lastStaged - started) / 1000 });
}

main().catch(fail);
