/**
 * The Xen driver's debug channel: what a route skipped and why (a sub-driver that
 * failed and the next one tried), sub-drivers that did not open, config files that are
 * not domain configs. Off by default; switched on by XENVIRT_DEBUG, read at each
 * message so it can be turned on in a running process:
 *   XENVIRT_DEBUG=1 (or all, or *)   everything
 *   XENVIRT_DEBUG=xen                this driver's messages (a comma list may name more)
 * Messages go to stderr, one line each, prefixed "xenvirt[xen]:".
 */
export function xenDebugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.XENVIRT_DEBUG;
  if (v === undefined || v === '' || v === '0') return false;
  const names = v.split(',').map((x) => x.trim().toLowerCase());
  return names.some((n) => n === '1' || n === 'all' || n === '*' || n === 'xen' || n === 'true');
}

let sink: (line: string) => void = (line) => process.stderr.write(line);

/** Tests only: capture the channel's lines instead of writing them to stderr. */
export function setXenDebugSink(next: ((line: string) => void) | undefined): void {
  sink = next ?? ((line) => process.stderr.write(line));
}

export function xenDebug(message: string): void {
  if (xenDebugEnabled()) sink(`xenvirt[xen]: ${message}\n`);
}
