import { expect } from 'vitest';
import { VirError } from '../../lib/errors.js';

/** Await a promise that must reject with a VirError, and return that error. */
export async function rejection(p: Promise<unknown>): Promise<VirError> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(VirError);
  return e as VirError;
}
