import { hostname } from 'node:os';
import type { Collector, LeaseOwner } from '../../../functions/domain/collector.ts';

/**
 * What a local run adds to its collector: this process as the owner of the leases it takes, and the
 * liveness check that lets a rerun on this machine take over, at once, the hour a killed run left
 * leased. A lease of another machine, or of a process that still exists, is never judged gone: it is
 * waited out. (A pid the system has given to a new process since reads as alive too: waiting is safe.)
 */
export function thisProcess(): Pick<Collector, 'leaseOwner' | 'isGone'> {
  const host = hostname();
  return {
    leaseOwner: { host, pid: process.pid },
    isGone: (owner: LeaseOwner) => owner.host === host && !processExists(owner.pid),
  };
}

/** Signal 0 only checks: ESRCH means no such process; EPERM means one that belongs to another user. */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !(err instanceof Error && 'code' in err && err.code === 'ESRCH');
  }
}
