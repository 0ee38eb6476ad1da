/**
 * What the CLI tests share: a real S3 server (s3rver) holding real state files and commit records, a
 * fixed clock, and `cli()`, which runs a command line through the CLI's own entry (runCli) and returns
 * what a user sees: the exit code, stdout and stderr.
 *
 * Step Functions has no local stand-in for ListStateMachines/ListExecutions/RedriveExecution, so the
 * tests mock its API with aws-sdk-client-mock (`mockClient(SFNClient)`); S3 is never mocked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { type LocalS3, startLocalS3 } from '@citrix-monitor/testkit/s3';
import { mockClient } from 'aws-sdk-client-mock';
import { type CliIo, runCli } from '../../cli/main.ts';
import { s3ClientFromEnv } from '../../functions/adapters/collectors.ts';
import { s3Store } from '../../functions/adapters/s3-store.ts';
import { loadLayout, tenantLayout } from '../../functions/domain/config.ts';
import { HOUR_MS, parseHour } from '../../functions/domain/hours.ts';
import { commitKey } from '../../functions/domain/keys.ts';
import type { CommitRecord } from '../../functions/domain/publish.ts';
import { formatMinute, parseMinute } from '../../functions/domain/windows.ts';

export const BUCKET = 'cli-test';
export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const machineArn = (stage: string) =>
  `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:citrix-monitor-collector-${stage}`;
export const SM_ARN = machineArn('prod');
export const execArn = (name: string, stage = 'prod') =>
  `arn:aws:states:${REGION}:${ACCOUNT}:execution:citrix-monitor-collector-${stage}:${name}`;

/**
 * The tests' "now": 14:30 UTC, so with 60-minute windows settling 15 minutes (the defaults) the newest due
 * window is the hour 13:00 (it ends at 14:00); with WINDOW_MINUTES 5 it is 14:10..14:15.
 */
export const NOW = Date.parse('2026-11-24T14:30:00Z');
export const hour = (text: string): number => parseHour(text) ?? Number.NaN;
export const at = (text: string): Date => new Date(text);

/** The mocked Step Functions API (see the note at the top); reset by each test file's beforeEach. */
export const sfnMock = mockClient(SFNClient);

/** ListStateMachines as an account with the prod and dev collectors and an unrelated machine. */
export function deployedStages(...stages: string[]): void {
  sfnMock.on(ListStateMachinesCommand).resolves({
    stateMachines: [
      ...stages.map((stage) => ({
        name: `citrix-monitor-collector-${stage}`,
        stateMachineArn: machineArn(stage),
        type: 'STANDARD' as const,
        creationDate: at('2026-10-01T00:00:00Z'),
      })),
      {
        name: 'billing-export',
        stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:billing-export`,
        type: 'STANDARD' as const,
        creationDate: at('2026-10-01T00:00:00Z'),
      },
    ],
  });
}

export interface Seen {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The state file and commit records of one tenant: the environment's one tenant, or a listed one. */
export interface TenantStorage {
  /** The state file: `last_hour_utc`, and `last_window_end` when given (windows shorter than the hour). */
  writeState(lastHour: string, windowEnd?: string): Promise<void>;
  /**
   * A commit record of the window that starts at `startText` (a whole hour, or a minute such as
   * `2026-11-24T14:05:00Z`); its lease by default a Lambda's (no host, pid).
   */
  writeRecord(
    startText: string,
    status: CommitRecord['status'] | 'unreadable',
    lease?: CommitRecord['lease'],
    /**
     * The run that claimed the window and the rows it counts (default `run-<start>`, 42 Sessions rows);
     * `end`, the window's end (default: the end of the hour `startText` starts, a whole hour's window).
     */
    by?: { run?: string; rows?: number; end?: string },
  ): Promise<void>;
}

export interface World extends TenantStorage {
  /** The collector's environment for s3rver; each world has its own WORK_PREFIX so tests do not meet. */
  readonly env: Record<string, string>;
  cli(argv: string[], io?: Partial<CliIo> & { tty?: boolean }): Promise<Seen>;
  /** Writes the tenant list (`WORK_PREFIX/tenants.json`) with these tenants. */
  writeTenants(ids: readonly string[]): Promise<void>;
  /** A listed tenant's storage (`WORK_PREFIX/tenants/<id>/…`, as the collector's tenantLayout says). */
  tenant(id: string): TenantStorage;
}

let server: LocalS3 | null = null;
let directory = '';
let worlds = 0;

export async function startS3(): Promise<void> {
  directory = mkdtempSync(join(tmpdir(), 'citrix-monitor-cli-'));
  server = await startLocalS3(directory, BUCKET);
}

export async function stopS3(): Promise<void> {
  await server?.stop();
  rmSync(directory, { recursive: true, force: true });
}

/** A fresh corner of the bucket (its own WORK_PREFIX) and a CLI configured for it. */
export function world(extraEnv: Record<string, string> = {}): World {
  if (!server) throw new Error('startS3() first');
  const workPrefix = `collector-work/cli-${++worlds}`;
  const env: Record<string, string> = {
    ...server.env,
    S3_BUCKET: BUCKET,
    WORK_PREFIX: workPrefix,
    ...extraEnv,
  };
  const store = s3Store(s3ClientFromEnv({ ...env, AWS_REGION: REGION }), BUCKET);
  const storage = (id: string | null): TenantStorage => {
    const layout = () => (id === null ? loadLayout(env) : tenantLayout(loadLayout(env), id));
    return {
      async writeState(lastHour, windowEnd) {
        const body = {
          last_hour_utc: lastHour,
          ...(windowEnd === undefined ? {} : { last_window_end: windowEnd }),
          updated_at: '2026-11-24T10:21:07.000Z',
          updated_by: 'scheduled-run',
        };
        await store.put(layout().stateKey, JSON.stringify(body), 'application/json');
      },
      async writeRecord(startText, status, lease, by = {}) {
        const start = parseMinute(startText) ?? Number.NaN;
        const record: CommitRecord = {
          start: formatMinute(start),
          end: by.end ?? formatMinute(start + HOUR_MS),
          run: by.run ?? `run-${startText}`,
          status: status === 'unreadable' ? 'publishing' : status,
          entities: { Sessions: { objects: 1, rows: by.rows ?? 42 } },
          claimed_at: '2026-11-24T12:00:00.000Z',
          lease: lease ?? { holder: `run-${startText}`, until: '2026-11-24T12:20:00.000Z' },
          ...(status === 'published' ? { published_at: '2026-11-24T12:01:00.000Z' } : {}),
        };
        const body = status === 'unreadable' ? '{"start":' : JSON.stringify(record);
        await store.put(commitKey(layout(), start), body, 'application/json');
      },
    };
  };
  return {
    env,
    ...storage(null),
    tenant: storage,
    async writeTenants(ids) {
      const tenants = ids.map((id) => ({
        id,
        customerId: `customer-${id}`,
        clientId: `client-${id}`,
        clientSecretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:citrix-monitor/${id}`,
      }));
      await store.put(`${workPrefix}/tenants.json`, JSON.stringify({ tenants }), 'application/json');
    },
    async cli(argv, io = {}) {
      let stdout = '';
      let stderr = '';
      const code = await runCli(argv, {
        env,
        sfn: new SFNClient({ region: REGION }),
        now: () => NOW,
        pollMs: 1,
        ...io,
        stdout: { write: (s: string) => (stdout += s), isTTY: false },
        stderr: { write: (s: string) => (stderr += s), isTTY: io.tty ?? false },
      });
      return { code, stdout, stderr };
    },
  };
}
