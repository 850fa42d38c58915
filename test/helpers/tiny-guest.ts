/**
 * The tiny QEMU guest of test/helpers/build-tiny-guest.sh (Debian kernel + busybox
 * initramfs, prints "XENVIRT-GUEST tick N" on ttyS0, powers off on the ACPI button), built
 * once into .cache/tiny-guest and described as libvirt domain XML.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(root, 'test/helpers/build-tiny-guest.sh');
export const TINY_GUEST_CACHE = join(root, '.cache/tiny-guest');
export const QEMU_BINARY = '/usr/bin/qemu-system-x86_64';
/** What the guest prints every second once booted. */
export const TICK = /XENVIRT-GUEST tick \d+/;

/** Why the guest cannot run here (undefined when it can). */
export function tinyGuestUnavailable(): string | undefined {
  if (!existsSync(QEMU_BINARY)) return `${QEMU_BINARY} missing (apt-get install qemu-system-x86)`;
  if (!existsSync('/bin/busybox') && !existsSync('/usr/bin/busybox')) return 'busybox missing (apt-get install busybox-static)';
  if (!existsSync('/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so')) return 'libvirt QEMU driver missing (apt-get install libvirt-daemon-driver-qemu)';
  return undefined;
}

/** For skipIf: in CI a missing component is a failure, elsewhere a skip. */
export function tinyGuestSkipReason(): string | undefined {
  const why = tinyGuestUnavailable();
  if (why && process.env.CI === 'true') throw new Error(`CI=true but the QEMU test guest cannot run: ${why}`);
  return why;
}

let built: Promise<{ kernel: string; initrd: string }> | undefined;
/** Build (or reuse) the kernel and initramfs; may download the kernel .deb the first time. */
export function buildTinyGuest(): Promise<{ kernel: string; initrd: string }> {
  built ??= run('bash', [script, TINY_GUEST_CACHE], { timeout: 600_000 }).then(() => ({
    kernel: join(TINY_GUEST_CACHE, 'vmlinuz'),
    initrd: join(TINY_GUEST_CACHE, 'initrd.gz'),
  }));
  return built;
}

/** Copy the guest's files where an unprivileged daemon can read them; returns the paths. */
export async function installTinyGuest(dir: string): Promise<{ kernel: string; initrd: string }> {
  const src = await buildTinyGuest();
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.gz');
  copyFileSync(src.kernel, kernel);
  copyFileSync(src.initrd, initrd);
  return { kernel, initrd };
}

/** What the guest prints once it has a DHCP lease on its virtio NIC (the whole line: output arrives in pieces). */
export const LEASE = /XENVIRT-GUEST lease (\d+\.\d+\.\d+\.\d+)\r?\n/;

/**
 * A 128 MiB, 1-vCPU TCG guest with a serial console (the Debian kernel needs ≥ 128 MiB);
 * with `network`, a virtio NIC on that libvirt network.
 */
export function tinyGuestXML(name: string, files: { kernel: string; initrd: string }, memoryMiB = 128, network?: string): string {
  const nic = network ? `\n    <interface type='network'><source network='${network}'/><model type='virtio'/></interface>` : '';
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${files.kernel}</kernel>
    <initrd>${files.initrd}</initrd>
    <cmdline>console=ttyS0 panic=-1</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>${QEMU_BINARY}</emulator>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <memballoon model='none'/>${nic}
  </devices>
</domain>
`;
}
