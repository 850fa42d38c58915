/**
 * The xend sub-driver inside the unified Xen driver, walking THE routing table: xend
 * first for suspend/resume/destroy/set-vcpus with the hypervisor as fallback, name
 * lookups at xend before XenStore, inactive-domain calls at xend from config version 3
 * and at the config-file sub-driver below it. xend is SIMULATED; the other sub-drivers
 * are fakes (they need a Xen host).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { openXen } from '../../lib/drivers/xen/index.js';
import { xendSubDriverFactory } from '../../lib/drivers/xen/xend/index.js';
import type { HypervisorDriver, DomainRef } from '../../lib/driver.js';
import { isVirError } from '../../lib/errors.js';
import { startSimulatedXend, type SimulatedXend } from '../helpers/simulated-xend.js';
import { fakeSubDriver, someRef, type FakeSubDriver } from './fake-subdrivers.js';

const XML = `<domain type='xen'><name>kept</name><uuid>8f07fe28-753f-2729-d76d-bdbd892f949a</uuid><memory>262144</memory><vcpu>1</vcpu>
<os><type>linux</type><kernel>/boot/vmlinuz</kernel></os></domain>`;

for (const version of [1, 2, 3, 4] as const) {
  describe(`routing through xend (config version ${version})`, () => {
    let xend: SimulatedXend;
    let hv: FakeSubDriver;
    let xs: FakeSubDriver;
    let xm: FakeSubDriver;
    let drv: HypervisorDriver;
    let guest: DomainRef;

    beforeEach(async () => {
      xend = await startSimulatedXend({ configVersion: version });
      const g = xend.addDomain({ name: 'guest1' });
      guest = { name: 'guest1', uuid: g.uuid, id: g.domid };
      hv = fakeSubDriver('hypervisor', ['domainSuspend', 'domainResume', 'domainDestroy', 'domainSetVcpus', 'domainPinVcpu']);
      xs = fakeSubDriver('xenstore', ['lookupDomainByName'], () => someRef);
      xm = fakeSubDriver('configfiles', ['defineXML', 'domainUndefine'], () => ({ ...someRef, name: 'kept', id: -1 }));
      const r = await openXen(
        new URL('xen:///'),
        { options: { xen: { xendAddress: xend.socketPath, privileged: true } }, readOnly: false, events: new EventEmitter() },
        [hv.factory, xs.factory, xm.factory, xendSubDriverFactory],
      );
      if (r === 'declined') throw new Error('declined');
      drv = r.driver;
    });
    afterEach(async () => {
      await drv.close();
      await xend.close();
    });

    it('suspend/resume/destroy/set-vcpus go to xend first, so xend knows the state', async () => {
      await drv.domainSuspend!(guest);
      expect(xend.domains.get('guest1')!.state).toBe('--p---');
      await drv.domainResume!(guest);
      await drv.domainSetVcpus!(guest, 1);
      expect(xend.domains.get('guest1')!.onlineVcpus).toBe(1);
      await drv.domainDestroy!(guest);
      expect(xend.domains.has('guest1')).toBe(false);
      expect(hv.calls).toEqual([]);
    });

    it('falls back to the hypervisor when xend fails, and only then', async () => {
      xend.fault({ method: 'POST', kind: 'xend-err', message: 'xend is wedged' });
      await drv.domainSuspend!(guest);
      await drv.domainResume!(guest);
      // No hypercall sets the vCPU count: xend's failure is the answer.
      const e = await drv.domainSetVcpus!(guest, 1).then(() => undefined, (x: unknown) => x);
      expect((e as Error).message).toMatch(/xend is wedged/);
      await drv.domainDestroy!(guest);
      expect(hv.calls).toEqual(['domainSuspend', 'domainResume', 'domainDestroy']);
      xend.clearFaults();
      xend.fault({ method: 'POST', kind: 'drop' });
      await drv.domainPinVcpu!(guest, 0, [1]);
      expect(hv.calls.at(-1)).toBe('domainPinVcpu');
    });

    it('when xend and the hypervisor both fail, the caller gets the specific error with both stories', async () => {
      xend.fault({ method: 'POST', kind: 'xend-err', message: 'xend is wedged' });
      hv.failing.add('domainSuspend');
      const e = await drv.domainSuspend!(guest).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(isVirError(e)).toBe(true);
      expect((e as Error).message).toMatch(/xend is wedged/);
      expect((e as Error).message).toMatch(/failed on purpose/);
    });

    it('looks names up at xend before XenStore; XenStore answers when xend cannot', async () => {
      expect(await drv.lookupDomainByName!('guest1')).toEqual(guest);
      expect(xs.calls).toEqual([]);
      xend.fault({ method: 'GET', kind: 'http-error', status: 500 });
      expect(await drv.lookupDomainByName!('guest1')).toEqual(someRef);
      expect(xs.calls).toEqual(['lookupDomainByName']);
    });

    it(version >= 3 ? 'defines and undefines inactive domains at xend' : 'defines and undefines at the config-file sub-driver (no managed domains in xend)', async () => {
      const ref = await drv.defineXML!(XML);
      expect(ref.name).toBe('kept');
      await drv.domainUndefine!(ref);
      if (version >= 3) {
        expect(xend.requests.some((r) => r.form.op === 'new')).toBe(true);
        expect(xend.requests.some((r) => r.form.op === 'delete')).toBe(true);
        expect(xm.calls).toEqual([]);
      } else {
        expect(xm.calls).toEqual(['defineXML', 'domainUndefine']);
        expect(xend.requests.some((r) => r.method === 'POST')).toBe(false);
      }
    });
  });
}
