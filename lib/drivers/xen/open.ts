/**
 * The open rules of xen:///: which sub-drivers must open, which may fail, and what a
 * failed open leaves behind (nothing: whatever did open is closed again).
 *
 * - As root (or options.privileged): every sub-driver is tried; hypervisor and
 *   XenStore are required (a privileged connection without them cannot tell what
 *   runs), the others are logged and skipped when they cannot open.
 * - As non-root: privcmd and the XenStore socket are root-only, so every sub-driver
 *   may fail except the proxy, which is the unprivileged way in. Without a proxy
 *   sub-driver, the open fails with VIR_ERR_NO_XEN saying so.
 * - options.disable names sub-drivers not to open at all (never required then).
 */
import { ErrorCode, ErrorDomain, VirError, isVirError } from '../../errors.js';
import type { SubDriver, SubDriverContext, SubDriverFactory, SubDriverName } from './subdriver.js';

const REQUIRED_WHEN_PRIVILEGED: readonly SubDriverName[] = ['hypervisor', 'xenstore'];

function requiredSet(ctx: SubDriverContext): Set<SubDriverName> {
  const disabled = new Set(ctx.options.disable ?? []);
  const req: readonly SubDriverName[] = ctx.privileged ? REQUIRED_WHEN_PRIVILEGED : ['proxy'];
  return new Set(req.filter((n) => !disabled.has(n)));
}

async function closeAll(opened: Map<SubDriverName, SubDriver>, ctx: SubDriverContext): Promise<void> {
  const results = await Promise.allSettled([...opened.values()].map((s) => Promise.resolve().then(() => s.close())));
  for (const r of results) if (r.status === 'rejected') ctx.log(`closing after a failed open: ${String((r.reason as Error)?.message ?? r.reason)}`);
}

/** Open the sub-drivers for one connection by the rules above. */
export async function openSubDrivers(factories: readonly SubDriverFactory[], ctx: SubDriverContext): Promise<Map<SubDriverName, SubDriver>> {
  const disabled = new Set(ctx.options.disable ?? []);
  const required = requiredSet(ctx);
  const available = new Set(factories.map((f) => f.name));
  if (!ctx.privileged && required.has('proxy') && !available.has('proxy')) {
    throw new VirError(
      `cannot open ${ctx.uri.href} as a non-root user: direct access to Xen (privcmd, XenStore) needs root, ` +
        'and the unprivileged way in (the xenvirt proxy) is not available in this build; run as root',
      { code: ErrorCode.NO_XEN, domain: ErrorDomain.XEN },
    );
  }
  const opened = new Map<SubDriverName, SubDriver>();
  const skipped: string[] = [];
  for (const factory of factories) {
    if (disabled.has(factory.name)) continue;
    try {
      const sub = await factory.open(ctx);
      opened.set(factory.name, sub);
    } catch (e) {
      const why = isVirError(e) || e instanceof Error ? e.message : String(e);
      if (required.has(factory.name)) {
        await closeAll(opened, ctx);
        throw new VirError(`cannot open ${ctx.uri.href}: the ${factory.name} sub-driver is required ${ctx.privileged ? 'for a privileged connection' : 'for a non-root connection'} and failed: ${why}`, {
          code: isVirError(e) ? e.code : ErrorCode.NO_XEN,
          domain: isVirError(e) ? e.domain : ErrorDomain.XEN,
          cause: e,
        });
      }
      skipped.push(`${factory.name}: ${why}`);
      ctx.log(`xen sub-driver ${factory.name} not opened: ${why}`);
    }
  }
  if (opened.size === 0) {
    throw new VirError(`cannot open ${ctx.uri.href}: no way to reach Xen on this host (${skipped.join('; ') || 'every sub-driver disabled'})`, {
      code: ErrorCode.NO_XEN,
      domain: ErrorDomain.XEN,
    });
  }
  return opened;
}
