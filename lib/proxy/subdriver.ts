/**
 * The proxy sub-driver: how a non-root user reaches Xen, through a root-run
 * xenvirt-proxy. Never used as root (root talks to Xen directly). Every call is
 * forwarded; the daemon decides what an unprivileged user may do and answers the rest
 * with VIR_ERR_OPERATION_DENIED, so there is one authority for that rule.
 */
import { statSync } from 'node:fs';
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import { FORWARDED_METHODS } from './methods.js';
import type { SubDriver, SubDriverContext, SubDriverFactory } from '../drivers/xen/subdriver.js';
import { ProxyClient, DEFAULT_PROXY_SOCKET, type ProxyClientOptions } from './client.js';

export { FORWARDED_METHODS } from './methods.js';

export interface ProxySubDriver extends SubDriver {
  readonly client: ProxyClient;
  /** What the daemon says about us (its view of our credentials). */
  hello(): Promise<{ server: string; protocol: number; uid: number; gid: number; pid: number }>;
}

function howToStart(path: string, why: string): VirError {
  return new VirError(
    `cannot reach xenvirt-proxy at ${path} (${why}): non-root access to Xen goes through it; ` +
      `start it as root with 'systemctl start xenvirt-proxy' (or run 'xenvirt-proxy --socket ${path}' as root)`,
    { code: ErrorCode.NO_CONNECT, domain: ErrorDomain.PROXY },
  );
}

export async function openProxy(ctx: Pick<SubDriverContext, 'options' | 'privileged'>, opts: ProxyClientOptions = {}): Promise<ProxySubDriver> {
  if (ctx.privileged) {
    throw new VirError('the xenvirt proxy is for non-root users only; as root xen:/// talks to Xen directly', {
      code: ErrorCode.NO_SUPPORT,
      domain: ErrorDomain.PROXY,
    });
  }
  const path = ctx.options.proxyPath ?? DEFAULT_PROXY_SOCKET;
  // No socket file, no daemon: said without loading node:net (CLI start-up, issue 15).
  if (!statSync(path, { throwIfNoEntry: false })) throw howToStart(path, 'ENOENT');
  let client: ProxyClient;
  try {
    client = await ProxyClient.connect(path, opts);
  } catch (e) {
    throw howToStart(path, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  const sub: Record<string, unknown> = {
    name: 'proxy',
    client,
    close: () => client.close(),
    hello: () => client.call('$hello'),
  };
  for (const m of FORWARDED_METHODS) sub[m] = (...args: unknown[]) => client.call(m, args);
  const driver = sub as unknown as ProxySubDriver;
  // A daemon that accepts but is not xenvirt-proxy (or refuses us) fails the open here.
  try {
    await driver.hello();
  } catch (e) {
    await client.close();
    if (e instanceof VirError && e.code === ErrorCode.OPERATION_DENIED) throw e;
    throw howToStart(path, (e as Error).message);
  }
  return driver;
}

export const proxySubDriverFactory: SubDriverFactory = {
  name: 'proxy',
  open: (ctx) => openProxy(ctx),
};
