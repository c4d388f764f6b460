import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The signal that bounds the work running now (a verification's setup, values or checks), handed down
 * without a parameter: the process runner, {@link waitFor} and the disposable server read it, so when
 * the time is up every program and wait under it ends, not only the promise that awaited them.
 */
const scope = new AsyncLocalStorage<AbortSignal>();

/** The signal bounding the current work, if any. */
export function currentSignal(): AbortSignal | undefined {
  return scope.getStore();
}

/** Runs `fn` outside any bound: a disposal that must finish also after the time is up. */
export function outsideCancel<T>(fn: () => T): T {
  return scope.exit(fn);
}

/** Calls `onAbort` when the current work is cancelled (at once if it already is); returns the undo. */
export function onCancel(onAbort: () => void): () => void {
  const signal = currentSignal();
  if (!signal) return () => undefined;
  if (signal.aborted) {
    onAbort();
    return () => undefined;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    signal.removeEventListener('abort', onAbort);
  };
}

/**
 * Runs `fn` bounded by `ms` milliseconds (and by the current bound, if any): at the deadline the
 * signal aborts, which kills what runs under it, and this rejects with `${what} did not finish within
 * ms` whether or not `fn` has ended. A rejection `fn` gives later is handled here.
 */
/** Why `signal` was aborted, as an Error (an abort without a reason gets one). */
export function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error(typeof reason === 'string' ? reason : 'cancelled');
}

export async function withDeadline<T>(ms: number, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const parent = currentSignal();
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new Error(`${what} did not finish within ${ms} ms`));
  }, ms);
  const undoParent = onCancel(() => {
    controller.abort(parent?.reason);
  });
  const { signal } = controller;
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(abortError(signal));
    signal.addEventListener(
      'abort',
      () => {
        reject(abortError(signal));
      },
      { once: true },
    );
  });
  const work = scope.run(signal, () => fn(signal));
  work.catch(() => undefined);
  aborted.catch(() => undefined);
  try {
    return await Promise.race([work, aborted]);
  } finally {
    clearTimeout(timer);
    undoParent();
  }
}

/** A pause that ends early, rejecting, when the current work is cancelled. */
export function pause(ms: number): Promise<void> {
  const signal = currentSignal();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const undo = onCancel(() => {
      clearTimeout(timer);
      reject(abortError(signal));
    });
    const timer = setTimeout(() => {
      undo();
      resolve();
    }, ms);
  });
}
