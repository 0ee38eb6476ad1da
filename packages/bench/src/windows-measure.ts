/**
 * One measurement of the windows bench in a process of its own, so that two run side by side on the
 * machine's two cores (windows.ts runJobs): BENCH_JOB, a {@link MeasureJob} as JSON, measured by windows.ts
 * `measure` (its servers here, its collector in a child of this process). Prints one JSON line, the
 * {@link SizeRun}.
 */
import { fail, need } from './result.ts';
import { measure, measureJobSchema } from './windows.ts';

const job = measureJobSchema.parse(JSON.parse(need('BENCH_JOB')));
measure(job).then(
  // A pipe takes a write asynchronously: exit once the whole line is out, or the parent reads part of it.
  (run) => process.stdout.write(`${JSON.stringify(run)}\n`, () => process.exit(0)),
  fail,
);
