import type { OutOfTime } from '../domain/ports.ts';
import { Retriable } from './citrix-http.ts';

/** How often and how long a request is tried again. */
export interface RetryPolicy {
  /** Attempts per request before the typed failure goes to the state machine. */
  readonly attempts: number;
  /** Base of the exponential backoff with full jitter, in ms. */
  readonly backoffMs: number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** A retriable failure of one attempt, and what follows it. */
export interface RetryEvent {
  readonly failure: Retriable;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** The wait before the next attempt; null: no attempt follows. */
  readonly waitMs: number | null;
}

/** Hears of each retriable failure. */
export type RetryObserver = (event: RetryEvent) => void;

/** How {@link retrying} tries again: its policy, its deadline, and who hears of each failure. */
export interface RetryOptions {
  readonly policy: RetryPolicy;
  /** No attempt and no wait goes past this (ms since the epoch). */
  readonly deadlineMs: number;
  /** The error thrown once the deadline has come. */
  readonly outOfTime: () => OutOfTime;
  readonly observe: RetryObserver;
}

/** The wait before attempt `attempt + 1`: full jitter over an exponential backoff. */
const backoff = (baseMs: number, attempt: number) => Math.random() * baseMs * 2 ** (attempt - 1);

/**
 * Runs `once` until it returns, trying a {@link Retriable} failure again after the server's `Retry-After`
 * or a backoff, as often as the policy and the failure allow; past that, the typed failure is thrown.
 * Every attempt and every wait ends by `deadlineMs`: past it, `outOfTime()` instead.
 */
export async function retrying<T>(
  once: () => Promise<T>,
  { policy, deadlineMs, outOfTime, observe }: RetryOptions,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (Date.now() >= deadlineMs) throw outOfTime();
    try {
      return await once();
    } catch (err) {
      if (!(err instanceof Retriable)) throw err;
      const late = Date.now() >= deadlineMs;
      if (late || attempt >= Math.min(policy.attempts, err.attemptsAtMost)) {
        observe({ failure: err, attempt, waitMs: null });
        throw late ? outOfTime() : err.failure;
      }
      const wait = err.retryAfterMs ?? backoff(policy.backoffMs, attempt);
      const left = deadlineMs - Date.now();
      observe({ failure: err, attempt, waitMs: Math.round(Math.max(0, Math.min(wait, left))) });
      // The wait is honoured as far as the budget goes; the next invocation asks again.
      await policy.sleep(Math.max(0, Math.min(wait, left)));
      if (wait >= left) throw outOfTime();
    }
  }
}
