/**
 * Bounds a connection attempt by a timeout and an AbortSignal, and undoes it on either.
 */
import { abortedError, timeoutError } from './errors.js';
import { DEFAULT_OPEN_TIMEOUT_MS, type OpenTransportOptions } from './types.js';

/**
 * Run `start`, which calls `settle` once with its outcome; a timeout or abort rejects
 * instead and calls `undo` so nothing is left open.
 */
export function boundedAttempt<T>(
  describe: string,
  options: OpenTransportOptions,
  start: (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
  undo: () => void,
): Promise<T> {
  const { signal } = options;
  const ms = options.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(describe, signal.reason));
      return;
    }
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: unknown) => {
      if (done) return;
      finish();
      undo();
      reject(error);
    };
    const onAbort = () => fail(abortedError(describe, signal?.reason));
    const timer = setTimeout(() => fail(timeoutError(describe, ms)), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      start(
        (value) => {
          if (done) return;
          finish();
          resolve(value);
        },
        fail,
      );
    } catch (e) {
      fail(e);
    }
  });
}
