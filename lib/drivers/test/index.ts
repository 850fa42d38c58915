/**
 * The test driver (`test:///default`, `test:///ABSOLUTE/PATH.xml`): an in-memory host
 * that behaves like a real one, for first steps, demos and the tests of every layer
 * above the drivers. Registers for the `test` scheme like any other driver.
 */
import { hostname as osHostname } from 'node:os';
import { VirError, ErrorCode, ErrorDomain } from '../../errors.js';
import type {
  DomainRef,
  DriverRegistration,
  HypervisorDriver,
  NativeFormat,
  NetworkDriver,
  NetworkRef,
  OpenContext,
} from '../../driver.js';
import { registerDriver } from '../../registry.js';
import { TestHost, type HostDescription } from './host.js';
import { DEFAULT_DOMAIN_XML, DEFAULT_HOSTNAME, DEFAULT_NETWORK_XML, DEFAULT_NODE_INFO } from './defaults.js';
// node-file (test:///PATH.xml), save-file (save/restore) and capabilities load when used:
// test:///default listing needs none of them (CLI start-up, issue 15).

/** The test "hypervisor" version libvirt's test driver reports (0.0.2). */
const TEST_VERSION = 2;

function createDrivers(host: TestHost): { driver: HypervisorDriver; networkDriver: NetworkDriver } {
  let closed = false;
  const driver: HypervisorDriver = {
    name: 'Test',
    async close() {
      closed = true;
    },
    getType: () => 'Test',
    getVersion: async () => TEST_VERSION,
    getHostname: async () => (host.hostname === DEFAULT_HOSTNAME ? osHostname() : host.hostname),
    getCapabilities: async () => (await import('./capabilities.js')).testCapabilities(host.nodeInfo),
    nodeGetInfo: async () => ({ ...host.nodeInfo }),
    listAllDomains: async (flags) => host.listDomains(flags),
    lookupDomainByName: async (name) => host.lookupByName(name),
    lookupDomainById: async (id) => host.lookupById(id),
    lookupDomainByUUID: async (uuid) => host.lookupByUUID(uuid),
    defineXML: async (xml) => host.defineXML(xml),
    createXML: async (xml) => host.createXML(xml),
    // The converters load on first use: listing domains should not pay for them.
    domainXMLFromNative: async (format: NativeFormat, text: string) => (await import('../native-formats.js')).convertFromNative(format, text),
    domainXMLToNative: async (format: NativeFormat, xml: string) => (await import('../native-formats.js')).convertToNative(format, xml),
    domainGetInfo: async (dom) => host.info(dom),
    domainSuspend: async (dom) => host.suspend(dom),
    domainResume: async (dom) => host.resume(dom),
    domainShutdown: async (dom) => host.shutdown(dom),
    domainReboot: async (dom) => host.reboot(dom),
    domainDestroy: async (dom) => host.destroy(dom),
    domainCreate: async (dom) => host.create(dom),
    domainUndefine: async (dom) => host.undefine(dom),
    domainGetXMLDesc: async (dom, flags) => host.xmlDesc(dom, flags.inactive === true),
    domainSetMemory: async (dom, kib) => host.setMemory(dom, kib),
    domainSetMaxMemory: async (dom, kib) => host.setMaxMemory(dom, kib),
    domainSetVcpus: async (dom, n) => host.setVcpus(dom, n),
    domainGetVcpus: async (dom) => host.vcpus(dom),
    domainPinVcpu: async (dom, vcpu, map) => host.pinVcpu(dom, vcpu, map),
    domainGetAutostart: async (dom) => host.getAutostart(dom),
    domainSetAutostart: async (dom, on) => host.setAutostart(dom, on),
    async domainSave(dom: DomainRef, path: string) {
      const { xml, state } = host.saveState(dom);
      await (await import('./save-file.js')).writeSaveImage(path, xml, state);
      return host.finishSave(dom);
    },
    async restore(path: string) {
      const { xml, state } = await (await import('./save-file.js')).readSaveImage(path);
      if (closed) return;
      host.restoreState(xml, state);
    },
  };
  const networkDriver: NetworkDriver = {
    name: 'Test',
    async close() {},
    listAllNetworks: async () => host.listNetworks(),
    lookupNetworkByName: async (name) => host.networkLookupByName(name),
    lookupNetworkByUUID: async (uuid) => host.networkLookupByUUID(uuid),
    networkDefineXML: async (xml) => host.networkDefine(xml),
    networkCreate: async (net: NetworkRef) => host.networkCreate(net),
    networkDestroy: async (net) => host.networkDestroy(net),
    networkUndefine: async (net) => host.networkUndefine(net),
    networkGetXMLDesc: async (net) => host.networkXML(net),
    networkGetBridgeName: async (net) => host.networkBridge(net),
    networkIsActive: async (net) => host.networkIsActive(net),
  };
  return { driver, networkDriver };
}

export const testDriverRegistration: DriverRegistration = {
  name: 'Test',
  uriSchemes: ['test'],
  async open(uri: URL, ctx: OpenContext) {
    if (uri.host !== '' && uri.host !== 'localhost') return 'declined'; // remote test URIs are not ours
    let desc: HostDescription;
    if (uri.pathname === '/default') {
      desc = {
        nodeInfo: { ...DEFAULT_NODE_INFO },
        hostname: DEFAULT_HOSTNAME,
        domains: [DEFAULT_DOMAIN_XML],
        networks: [DEFAULT_NETWORK_XML],
      };
    } else if (uri.pathname.length > 1) {
      desc = await (await import('./node-file.js')).loadNodeFile(decodeURIComponent(uri.pathname));
    } else {
      throw new VirError(`test driver URI must be test:///default or test:///ABSOLUTE/PATH.xml, got '${uri.href}'`, {
        code: ErrorCode.INVALID_ARG,
        domain: ErrorDomain.TEST,
      });
    }
    return createDrivers(new TestHost(desc, ctx.events));
  },
};

registerDriver(testDriverRegistration);
