import { currentSignal, pause as cancellablePause } from './cancel.ts';

/** Options for {@link waitFor}. */
export interface WaitOptions {
  /** What is awaited, for the timeout message ("redis-server to accept connections"). */
  what: string;
  /** Give up after this many milliseconds. */
  timeoutMs?: number;
  /** Pause between two polls. */
  intervalMs?: number;
  /** When set, the pause doubles after each poll that was not yet it, up to this many milliseconds. */
  maxIntervalMs?: number;
}

/**
 * Polls `probe` until it returns a value other than `undefined`/`false`, and returns that value.
 * Throws a clear error naming `what` once `timeoutMs` has passed. An exception thrown by the probe
 * counts as "not yet", and the last one is kept as the cause of the timeout, unless it is marked
 * `fatal` (see {@link fatal}): that one ends the wait at once. A cancelled bound (scripts/core/cancel.ts)
 * ends it too, with the bound's reason.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { what, timeoutMs = 10_000, intervalMs = 20, maxIntervalMs }: WaitOptions,
): Promise<T> {
  // The monotonic clock: a wall clock set forward (NTP, an operator) must not end a wait early, nor one set back prolong it.
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  let pause = intervalMs;
  const signal = currentSignal();
  for (;;) {
    // Cancelled (the verification's time is up): the wait ends with the reason, not at its own timeout.
    signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (error instanceof Error && (error as { fatal?: boolean }).fatal) throw error;
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${detail}`, { cause: lastError });
    }
    await cancellablePause(Math.min(pause, Math.max(0, deadline - performance.now())));
    if (maxIntervalMs !== undefined) pause = Math.min(pause * 2, maxIntervalMs);
  }
}

/** An error that ends a {@link waitFor} at once instead of being retried. */
export function fatal(message: string): Error {
  return Object.assign(new Error(message), { fatal: true });
}
