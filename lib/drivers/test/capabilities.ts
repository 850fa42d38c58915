/** Capabilities XML of the pretend test host (valid against libvirt's capabilities.rng). */
import type { NodeInfo } from '../../driver.js';
import { escapeText } from '../../xml/tree.js';

export function testCapabilities(node: NodeInfo): string {
  const arch = escapeText(node.model);
  const cells = Array.from({ length: node.nodes }, (_, cell) => {
    const perCell = Math.max(1, Math.floor(node.cpus / node.nodes));
    const cpus = Array.from({ length: perCell }, (_, i) => `            <cpu id='${cell * perCell + i}'/>`);
    return [
      `        <cell id='${cell}'>`,
      `          <memory unit='KiB'>${Math.floor(node.memory / node.nodes)}</memory>`,
      `          <cpus num='${perCell}'>`,
      ...cpus,
      '          </cpus>',
      '        </cell>',
    ].join('\n');
  });
  return [
    '<capabilities>',
    '',
    '  <host>',
    '    <cpu>',
    `      <arch>${arch}</arch>`,
    `      <topology sockets='${node.sockets}' dies='1' clusters='1' cores='${node.cores}' threads='${node.threads}'/>`,
    '    </cpu>',
    '    <power_management/>',
    "    <iommu support='no'/>",
    '    <topology>',
    `      <cells num='${node.nodes}'>`,
    ...cells,
    '      </cells>',
    '    </topology>',
    '  </host>',
    '',
    '  <guest>',
    '    <os_type>hvm</os_type>',
    `    <arch name='${arch}'>`,
    '      <wordsize>32</wordsize>',
    '      <emulator>/usr/bin/test-hv</emulator>',
    "      <domain type='test'/>",
    '    </arch>',
    '    <features>',
    '      <pae/>',
    '      <nonpae/>',
    '    </features>',
    '  </guest>',
    '',
    '  <guest>',
    '    <os_type>xen</os_type>',
    `    <arch name='${arch}'>`,
    '      <wordsize>32</wordsize>',
    '      <emulator>/usr/bin/test-hv</emulator>',
    "      <domain type='test'/>",
    '    </arch>',
    '  </guest>',
    '',
    '</capabilities>',
    '',
  ].join('\n');
}
