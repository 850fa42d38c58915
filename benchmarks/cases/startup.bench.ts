/**
 * CLI start-up: `xenvirt -c test:///default list` as a whole process against `node -e 0`
 * (node's own start-up) on the same machine, in the same run, alternating. Goal from
 * issue 15: at most 1.5× node's own start-up. Runs the built CLI (bin/xenvirt.js loads
 * dist/), as a user would.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stats, type BenchCase } from '../harness.js';
import { timeProcesses } from '../process-time.js';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const ROUNDS = Number(process.env.XENVIRT_STARTUP_ROUNDS ?? 30);

const startup: BenchCase = {
  suite: 'startup',
  async run() {
    if (!existsSync(resolve(root, 'dist/cli.cjs'))) return { skipped: 'dist/ is not built (npx tsup)' };
    const bin = resolve(root, 'bin/xenvirt.js');
    // no user settings leak in: the default URI is given explicitly
    const env = { ...process.env, XENVIRT_DEFAULT_URI: '' };
    const cmds = [
      { label: 'node', argv: [process.execPath, '-e', '0'], env },
      { label: 'list', argv: [process.execPath, bin, '-c', 'test:///default', 'list'], env },
      { label: 'help', argv: [process.execPath, bin, 'help'], env },
    ];
    timeProcesses(cmds, 2); // warm the page cache
    const t = timeProcesses(cmds, ROUNDS);
    const node = stats(t.get('node')!, 'ms/process');
    const row = (name: string, label: string) => {
      const x = stats(t.get(label)!, 'ms/process');
      return {
        suite: 'startup',
        name,
        xenvirt: x,
        reference: { ...node, label: 'node -e 0' },
        ratio: x.median / node.median,
        better: 'lower' as const,
        goal: '≤ 1.5',
      };
    };
    return [row('xenvirt -c test:///default list (process)', 'list'), row('xenvirt help (process)', 'help')];
  },
};
export default startup;
