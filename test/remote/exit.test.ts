import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('remote client process hygiene', () => {
  it('exits on its own, status 0, after a peer died with 1,000 calls in flight and a close with 100 in flight', async () => {
    const { stdout } = await run('node_modules/.bin/tsx', ['test/remote/fake-peer-exit-script.ts'], { timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { codes: string[]; closedCodes: string[] };
    expect(out.codes).toEqual(['VIR_ERR_RPC']);
    // closing rejects calls in flight; the driver's own CONNECT_CLOSE never reaches a reply here
    expect(out.closedCodes).toEqual(['VIR_ERR_INVALID_CONN']);
  }, 90_000);
});
