/**
 * The committed lib/remote/protocol is exactly what the generator makes from the pinned
 * libvirt release: the script fetches Debian's libvirt 9.0.0 source (or reuses its cache),
 * regenerates into a temp dir, and every file must match byte for byte.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const committed = join(root, 'lib/remote/protocol');

describe('generated protocol', () => {
  it('is what scripts/regen-remote-protocol.sh makes from libvirt 9.0.0', async () => {
    const out = mkdtempSync(join(tmpdir(), 'xenvirt-regen-'));
    try {
      await run('sh', [join(root, 'scripts/regen-remote-protocol.sh')], { env: { ...process.env, XENVIRT_PROTOCOL_OUT: out }, timeout: 600_000 });
      const files = readdirSync(committed).sort();
      expect(readdirSync(out).sort()).toEqual(files);
      expect(files).toEqual(['c-enums.ts', 'injected-constants.ts', 'keepalive.ts', 'qemu.ts', 'remote.ts', 'virnet.ts']);
      for (const f of files) expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(committed, f), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 660_000);
});
