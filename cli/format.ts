/** What a person reads: the reports as text. `--json` prints the reports themselves instead. */
import type { BackfillProgress, BackfillReport, HourResult } from './backfill.ts';
import { type FailedExecution, insteadOf } from './executions.ts';
import type { RedriveReport } from './redrive.ts';
import type {
  ExecutionsPart,
  FleetStatusReport,
  NextWindow,
  StatusReport,
  WindowBeingPublished,
} from './status.ts';

export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

const instant = (iso: string | null) => (iso ? iso.replace(/\.\d+Z$/, 'Z') : '-');
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A lag: `10 minutes`, `240 minutes (4h00m)`. */
const minutes = (n: number) => `${plural(n, 'minute')}${n >= 60 ? ` (${duration(n * 60)})` : ''}`;

/** A window: `2026-11-24T14:05:00Z..14:10:00Z`, its end by the time of day (a window never crosses an hour). */
const span = (start: string, end: string) => `${start}..${end.slice(11)}`;

/** A window being published: a whole hour by its start alone, as before windows; a shorter one by its span. */
const windowText = (start: string, end: string) =>
  Date.parse(end) - Date.parse(start) === 3_600_000 ? start : span(start, end);

/** The next window, and whether it is due: `2026-11-24T14:05:00Z..14:10:00Z, due since 2026-11-24T14:25:00Z`. */
const nextText = (next: NextWindow) =>
  `${span(next.start, next.end)}, ${next.due ? 'due since' : 'due at'} ${next.dueAt}`;

/** How the windows go: `5-minute windows, each due 15 minutes after its end`. */
const windowing = (r: Pick<StatusReport, 'windowMinutes' | 'settleMinutes'>) =>
  `${r.windowMinutes}-minute windows, each due ${plural(r.settleMinutes, 'minute')} after its end`;

/** The lag alarm's threshold: `3 hours`, as LAG_ALARM_HOURS sets it. */
const alarm = (r: Pick<StatusReport, 'lagAlarmHours'>) => plural(r.lagAlarmHours, 'hour');

/**
 * A failed execution: its name, status, hour and cause. Seen by one tenant (`status --tenant`, where
 * `failedTenants` holds that tenant alone), a `TenantsFailed` cause is that tenant's part of it; in the
 * overview of many tenants, the failed tenants are named after the cause.
 */
function failure(f: FailedExecution, tenant: string | null = null): string {
  const own = tenant === null ? undefined : f.failedTenants?.find((t) => t.tenant === tenant);
  const what = own
    ? `${f.error}: tenant "${own.tenant}": ${[own.error, own.cause].filter(Boolean).join(': ')}`
    : [f.error, f.cause].filter(Boolean).join(': ') || 'no error recorded';
  const lines = [`  ${f.name}  ${f.status} ${instant(f.stopDate)}  hour ${f.hour ?? '(scheduled run)'}`];
  lines.push(`    ${what}`);
  if (tenant === null && f.failedTenants?.length)
    lines.push(`    failed tenants: ${f.failedTenants.map((t) => t.tenant).join(', ')}`);
  return lines.join('\n');
}

/** The failed executions of a status report, split by whether they can be redriven. */
function failures(r: Pick<StatusReport, 'failed'>, targetFlags: string, tenant: string | null): string[] {
  const lines: string[] = [];
  if (r.failed.redrivable.length) {
    const redrive = `citrix-monitor redrive${tenant ? ` --tenant ${tenant}` : ''}${targetFlags}`;
    lines.push('', `Failed, can be redriven (${redrive}):`);
    for (const f of r.failed.redrivable) lines.push(failure(f, tenant));
  }
  if (r.failed.notRedrivable.length) {
    lines.push('', 'Failed, can no longer be redriven:');
    for (const f of r.failed.notRedrivable)
      lines.push(
        failure(f, tenant),
        `    not redrivable: ${f.reason}`,
        `    instead: ${insteadOf(f, targetFlags)}`,
      );
  }
  return lines;
}

/** The last executions, newest first. */
function executionLines(r: Pick<StatusReport, 'executions'>): string[] {
  if (r.executions.length === 0) return ['No executions yet.'];
  const lines = [`Last ${plural(r.executions.length, 'execution')}:`];
  lines.push(`  ${'STATUS'.padEnd(15)} ${'STARTED'.padEnd(21)} ${'DURATION'.padEnd(8)}  NAME`);
  for (const e of r.executions) {
    const redriven = e.redriveCount ? ` (redriven ${e.redriveCount}x)` : '';
    lines.push(
      `  ${e.status.padEnd(15)} ${instant(e.startDate).padEnd(21)} ${duration(e.durationSeconds).padEnd(8)}  ${e.name}${redriven}`,
    );
  }
  return lines;
}

function beingPublished(p: WindowBeingPublished): string {
  const owner = p.host !== null && p.pid !== null ? `process ${p.pid} on ${p.host}` : 'a Lambda';
  const run = p.run === p.holder ? '' : ` (objects of run ${p.run})`;
  return p.leaseLive
    ? `  ${windowText(p.start, p.end)}  held by run ${p.holder}, ${owner}, until ${instant(p.until)}${run}`
    : `  ${windowText(p.start, p.end)}  lease of run ${p.holder} (${owner}) expired at ${instant(p.until)}: the next run finishes it${run}`;
}

/** The state machine, or that it could not be looked up. */
const machineLine = (r: ExecutionsPart) =>
  `State machine  ${r.stateMachineArn ?? 'unknown (see Executions)'}`;

/** The health, from what could be read, and the executions, or the call that failed to read them. */
function healthAndExecutions(r: ExecutionsPart & Pick<StatusReport, 'executions'>): string[] {
  const health = r.healthy
    ? r.executionsUnreadable
      ? 'healthy as far as S3 shows; the executions are unknown'
      : 'healthy'
    : `UNHEALTHY: ${r.problems.join('; ')}`;
  const lines = [`Health         ${health}`, ''];
  if (r.executionsUnreadable)
    lines.push(
      `Executions     could not be read: ${r.executionsUnreadable} Run status again once Step Functions can be reached.`,
    );
  else lines.push(...executionLines(r));
  return lines;
}

export function formatStatus(r: StatusReport, targetFlags: string): string {
  const lines = [machineLine(r)];
  if (r.tenant) lines.push(`Tenant         ${r.tenant} (its SecOps feed reads ${r.published})`);
  const { lastHour, end, location, updatedAt } = r.state;
  // last_window_end is said when it is not the end of last_hour_utc: windows shorter than the hour.
  const windowEnd = end !== null && lastHour !== null && Date.parse(end) - Date.parse(lastHour) !== 3_600_000;
  lines.push(
    lastHour
      ? `State          last_hour_utc ${lastHour}${windowEnd ? `, last_window_end ${end}` : ''} (${location}${updatedAt ? `, updated ${instant(updatedAt)}` : ''})`
      : `State          none yet (${location})`,
  );
  if (r.lagMinutes !== null)
    lines.push(
      `Lag            ${minutes(r.lagMinutes)} behind the newest due window end ${r.newestDueEnd} (alarm above ${alarm(r)})`,
    );
  lines.push(`Next window    ${nextText(r.next)} (${windowing(r)})`);
  lines.push(...healthAndExecutions(r));
  if (r.tenant && (r.failed.redrivable.length || r.failed.notRedrivable.length))
    lines.push('', `(Failed executions below: those whose failure names tenant ${r.tenant}.)`);
  lines.push(...failures(r, targetFlags, r.tenant ?? null));
  if (r.publishing.length) {
    lines.push(
      '',
      'Being published (windows claimed, not finished; no other run writes them until the lease ends):',
    );
    for (const p of r.publishing) lines.push(beingPublished(p));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `status` with a tenant list: a line per tenant (its last_hour_utc, its next window, which starts where
 * its state ends, and its lag), then the executions as for one tenant.
 */
export function formatFleetStatus(r: FleetStatusReport, targetFlags: string): string {
  const lines = [machineLine(r)];
  lines.push(
    `Tenants        ${r.tenants.length} listed in ${r.tenantList}; newest due window end ${r.newestDueEnd}`,
    `               ${windowing(r)} (lag alarm above ${alarm(r)})`,
  );
  const width = Math.max(6, ...r.tenants.map((t) => t.id.length));
  lines.push(`  ${'TENANT'.padEnd(width)}  ${'LAST_HOUR_UTC'.padEnd(20)}  ${'NEXT_WINDOW'.padEnd(31)}  LAG`);
  for (const t of r.tenants) {
    const last = t.error !== null ? 'unreadable' : (t.state.lastHour ?? 'none yet');
    const next = t.next === null ? '-' : span(t.next.start, t.next.end);
    const lag =
      t.lagMinutes === null
        ? '-'
        : `${minutes(t.lagMinutes)}${t.lagMinutes > r.lagAlarmHours * 60 ? ', above the alarm' : ''}`;
    lines.push(`  ${t.id.padEnd(width)}  ${last.padEnd(20)}  ${next.padEnd(31)}  ${lag}`);
  }
  lines.push(...healthAndExecutions(r));
  lines.push(...failures(r, targetFlags, null));
  lines.push(
    '',
    `One tenant's state, commit records and published prefix: citrix-monitor status --tenant ID${targetFlags}`,
  );
  return `${lines.join('\n')}\n`;
}

const OUTCOME_TEXT: Record<HourResult['outcome'], string> = {
  published: 'published',
  'already-published': 'skipped, already published',
  'already-started': 'already started',
  'publishing-elsewhere': 'being published by another run',
  failed: 'failed',
};

const isOutcome = (name: string): name is HourResult['outcome'] => Object.hasOwn(OUTCOME_TEXT, name);

/** One line per finished hour, as printed while a backfill runs when stderr is not a terminal. */
export function hourLine(r: HourResult): string {
  const parts = [`${r.hour}  ${OUTCOME_TEXT[r.outcome]}`];
  if (r.execution)
    parts.push(`(${r.execution}${r.status && r.outcome === 'already-started' ? `, ${r.status}` : ''})`);
  if (r.rows !== null)
    parts.push(
      `${r.rows.toLocaleString('en-US')} rows${r.tenants ? ` of ${plural(r.tenants.length, 'tenant')}` : ''}`,
    );
  if (r.durationSeconds !== null) parts.push(`in ${duration(r.durationSeconds)}`);
  const line = parts.join(' ');
  return r.outcome === 'failed' ? `${line}: ${[r.error, r.cause].filter(Boolean).join(': ')}` : line;
}

export function formatBackfill(r: BackfillReport, flags: string): string {
  const who = r.tenant
    ? ` of tenant ${r.tenant}`
    : r.tenants
      ? ` of every tenant (${r.tenants.join(', ')})`
      : '';
  const redrive = `citrix-monitor redrive${r.tenant ? ` --tenant ${r.tenant}` : ''}${flags}`;
  const lines = [
    `Backfill ${r.from} .. ${r.to} (${plural(r.hours.length, 'hour')})${who} on ${r.stateMachineArn}`,
    ...backfillSummary(r),
    ...alreadyStartedLines(r, redrive),
    ...failedLines(r, redrive),
  ];
  return `${lines.join('\n')}\n`;
}

/** How many hours ended each way; "being published by another run" only when some did. */
function backfillSummary(r: BackfillReport): string[] {
  return Object.keys(OUTCOME_TEXT)
    .filter(isOutcome)
    .filter((outcome) => r.summary[outcome] || outcome !== 'publishing-elsewhere')
    .map((outcome) => `  ${`${OUTCOME_TEXT[outcome]}:`.padEnd(32)} ${r.summary[outcome]}`);
}

/** The hours Step Functions had already started, and whether a failed one can still be redriven. */
function alreadyStartedLines(r: BackfillReport, redrive: string): string[] {
  const started = r.hours.filter((h) => h.outcome === 'already-started');
  if (!started.length) return [];
  const next = (h: HourResult) =>
    h.redrivable === true
      ? ` - it failed; redrive it once the cause is fixed: ${redrive}`
      : h.redrivable === false
        ? ' - it failed and can no longer be redriven'
        : '';
  return [
    '',
    'Already started (Step Functions refused a second execution of the same name):',
    ...started.map((h) => `  ${h.hour}  ${h.execution} ${h.status ?? ''}${next(h)}`),
  ];
}

/** The failed hours with their errors, what of them was published, and the command that redrives them. */
function failedLines(r: BackfillReport, redrive: string): string[] {
  const failed = r.hours.filter((h) => h.outcome === 'failed');
  if (!failed.length) return [];
  const nothing =
    r.tenants && !r.tenant
      ? 'A failed hour was not published for the tenants its TenantsFailed names (for none, on another error).'
      : 'Nothing of a failed hour was published.';
  return [
    '',
    'Failed:',
    ...failed.flatMap((h) => [
      `  ${h.hour}  ${h.execution ?? ''} ${h.status ?? ''}`,
      `    ${[h.error, h.cause].filter(Boolean).join(': ')}`,
    ]),
    `${nothing} Once the cause is fixed: ${redrive}`,
  ];
}

/** At most five names, and how many more. */
const someOf = (names: readonly string[]) =>
  names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;

export function formatRedrive(r: RedriveReport): string {
  const which = r.tenant ? ` naming tenant ${r.tenant}` : '';
  const lines = [`Failed executions${which} stopped since ${instant(r.since)} on ${r.stateMachineArn}:`];
  if (!r.redriven.length && !r.notRedrivable.length) lines.push('  none: nothing to redrive.');
  const what = (f: FailedExecution) =>
    `${f.name} (${f.status} ${instant(f.stopDate)}, ${f.hour ? `hour ${f.hour}` : 'scheduled run'})`;
  for (const f of r.redriven) {
    lines.push(`  redriven: ${what(f)}`);
    if (f.reruns?.length)
      lines.push(`    collects again its failed tenants: ${f.reruns.join(', ')} (not those that committed)`);
  }
  for (const f of r.notRedrivable)
    lines.push(`  cannot be redriven: ${what(f)}`, `    why: ${f.reason}`, `    instead: ${f.instead}`);
  if (r.otherTenants?.length)
    lines.push(
      '',
      `Left alone: ${plural(r.otherTenants.length, 'failed execution')} whose failure does not name tenant ${r.tenant} (${someOf(r.otherTenants)}); citrix-monitor redrive without --tenant redrives them too.`,
    );
  if (r.redriven.length && r.tenant)
    lines.push(
      '',
      `A redrive re-runs every failed tenant of its execution, not only ${r.tenant}, and only the failed ones: tenants that committed their hours are not collected again. Follow it with citrix-monitor status --tenant ${r.tenant}.`,
    );
  else if (r.redriven.length)
    lines.push('', 'A redrive re-runs only what failed; follow it with citrix-monitor status.');
  return `${lines.join('\n')}\n`;
}

/**
 * Progress of a backfill on stderr: a bar redrawn in place on a terminal, otherwise a line per hour
 * as it finishes (what a log file or CI wants).
 */
export function backfillProgress(out: Output, total: number): (event: BackfillProgress) => void {
  const running = new Set<string>();
  let finished = 0;
  let failed = 0;
  return (event) => {
    if (event.kind === 'started') running.add(event.hour);
    else {
      running.delete(event.result.hour);
      finished++;
      if (event.result.outcome === 'failed') failed++;
      if (!out.isTTY) out.write(`${hourLine(event.result)}\n`);
    }
    if (!out.isTTY) return;
    const width = 30;
    const filled = Math.round((finished / Math.max(total, 1)) * width);
    const now = [...running].map((h) => h.slice(0, 13)).join(', ');
    out.write(
      `\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${finished}/${total} hours` +
        `${failed ? `, ${failed} failed` : ''}${now ? `  running: ${now}` : ''}`,
    );
    if (finished === total) out.write('\n');
  };
}
