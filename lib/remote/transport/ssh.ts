/**
 * The ssh transport: the system `ssh` (so ~/.ssh/config, agents and known_hosts work), with
 * the far side running `virt-ssh-helper URI` when it exists, else `nc -U socket` (libvirt's
 * proxy=auto; `?proxy=native|netcat` forces one). The protocol flows over ssh's stdio.
 */
import type { RemoteTarget } from '../uri.js';
import { helperDied, spawnStream } from './child-stream.js';
import type { OpenTransportOptions, RemoteTransport } from './types.js';

/** Quote for a POSIX shell. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The daemon socket on the far side, as a shell word (the session one is found there). */
function remoteSocketWord(target: RemoteTarget, readonly: boolean): string {
  if (target.client.socket !== undefined) return shellQuote(target.client.socket);
  if (target.path === '/session') return '"${XDG_RUNTIME_DIR:-$HOME/.cache}/libvirt/libvirt-sock"';
  // /var/run rather than /run: the far side may be an older system without /run.
  return readonly ? '/var/run/libvirt/libvirt-sock-ro' : '/var/run/libvirt/libvirt-sock';
}

/** The script the far side's `sh -c` runs to reach its daemon. */
export function remoteProxyScript(target: RemoteTarget, readonly = false): string {
  const nc = shellQuote(target.client.netcat ?? 'nc');
  // OpenBSD netcat only exits at the end of its input with -q0; other netcats lack -q.
  const netcat =
    `case "$(${nc} -q 2>&1)" in *"requires an argument"*) q=-q0 ;; *) q= ;; esac; ` +
    `exec ${nc} $q -U ${remoteSocketWord(target, readonly)}`;
  const helper = `exec virt-ssh-helper ${readonly ? '-r ' : ''}${shellQuote(target.remoteName)}`;
  // Naming the netcat binary (as libvirt treats it) or the socket (which virt-ssh-helper
  // cannot take) asks for netcat.
  const explicitNetcat = target.client.netcat !== undefined || target.client.socket !== undefined;
  const asked = target.client.proxy ?? 'auto';
  const proxy = asked === 'auto' && explicitNetcat ? 'netcat' : asked;
  switch (proxy) {
    case 'native':
      return helper;
    case 'netcat':
      return netcat;
    default:
      return `if command -v virt-ssh-helper >/dev/null 2>&1; then ${helper}; fi; ${netcat}`;
  }
}

/** ssh's arguments: options, then the host, then the remote command (one word for the remote shell). */
export function sshArguments(target: RemoteTarget, readonly = false): string[] {
  const args: string[] = [];
  if (target.port !== undefined) args.push('-p', String(target.port));
  if (target.user !== undefined) args.push('-l', target.user);
  if (target.client.keyfile !== undefined) args.push('-i', target.client.keyfile);
  if (target.client.knownHosts !== undefined) args.push('-o', `UserKnownHostsFile=${target.client.knownHosts}`);
  // No pty (binary protocol) and no escape character (a 0x7e byte must not be special).
  args.push('-T', '-e', 'none');
  if (target.client.noTty) args.push('-o', 'BatchMode=yes');
  if (target.client.noVerify) args.push('-o', 'StrictHostKeyChecking=no');
  args.push('--', target.host ?? 'localhost', `sh -c ${shellQuote(remoteProxyScript(target, readonly))}`);
  return args;
}

export async function openSshTransport(target: RemoteTarget, options: OpenTransportOptions = {}): Promise<RemoteTransport> {
  const command = target.client.command ?? 'ssh';
  const host = target.host ?? 'localhost';
  const describe = `ssh:${target.user ? `${target.user}@` : ''}${host}${target.port !== undefined ? `:${target.port}` : ''}`;
  const stream = await spawnStream(command, sshArguments(target, options.readonly ?? false), describe, options, helperDied(describe, 'ssh'));
  return { stream, secure: true, describe, close: () => stream.destroy() };
}
