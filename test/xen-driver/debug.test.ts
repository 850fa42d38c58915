/**
 * The Xen driver's debug channel: off unless XENVIRT_DEBUG names it; when on, a route's
 * skipped sub-driver failure is a line on it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../lib/errors.js';
import { setXenDebugSink, xenDebug, xenDebugEnabled } from '../../lib/drivers/xen/debug.js';
import { UnifiedXenDriver } from '../../lib/drivers/xen/unified.js';
import type { SubDriver, SubDriverName } from '../../lib/drivers/xen/subdriver.js';
import { failure, fakeSubDriver } from './fake-subdrivers.js';

const saved = process.env.XENVIRT_DEBUG;
afterEach(() => {
  if (saved === undefined) delete process.env.XENVIRT_DEBUG;
  else process.env.XENVIRT_DEBUG = saved;
  setXenDebugSink(undefined);
});

describe('XENVIRT_DEBUG', () => {
  it('is off by default and for 0; on for 1, all, * and lists naming xen', () => {
    expect(xenDebugEnabled({})).toBe(false);
    expect(xenDebugEnabled({ XENVIRT_DEBUG: '0' })).toBe(false);
    expect(xenDebugEnabled({ XENVIRT_DEBUG: 'proxy' })).toBe(false);
    for (const v of ['1', 'all', '*', 'xen', 'cli, xen']) expect(xenDebugEnabled({ XENVIRT_DEBUG: v }), v).toBe(true);
  });

  it('a skipped sub-driver failure is a line on the channel when it is on, nothing when off', async () => {
    const lines: string[] = [];
    setXenDebugSink((l) => lines.push(l));
    // Fake sub-drivers: the channel is what is tested here, not the sub-drivers.
    const subs = new Map<SubDriverName, SubDriver>([
      ['hypervisor', fakeSubDriver('hypervisor', { nodeGetInfo: { fail: failure(ErrorCode.NO_XEN, 'privcmd gone') } })],
      ['xend', fakeSubDriver('xend', { nodeGetInfo: { answer: { cpus: 1 } } })],
    ]);
    const drv = new UnifiedXenDriver(subs, { log: xenDebug }).driver();
    delete process.env.XENVIRT_DEBUG;
    await drv.nodeGetInfo!();
    expect(lines).toEqual([]);
    process.env.XENVIRT_DEBUG = 'xen';
    await drv.nodeGetInfo!();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^xenvirt\[xen\]: nodeGetInfo: hypervisor failed \(VIR_ERR_NO_XEN: privcmd gone\), trying the next sub-driver\n$/);
  });
});
