import { CancelledError } from '../errors';

/** Resolves after `ms`, or rejects with the signal's reason (a CancelledError when none) once it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new CancelledError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason ?? new CancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
