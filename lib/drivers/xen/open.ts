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
 * - No dead connection: when the hypervisor sub-driver fails only because this Xen
 *   speaks an interface version the build does not know (a newer Xen), the connection
 *   opens without it; every route with another sub-driver (XenStore, the toolstack)
 *   answers, and the reason is in the result's warnings (conn.warnings). Any other
 *   failure of a required sub-driver still fails the open.
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

/**
 * The hypervisor speaks an interface version this build has no layout for. Recognised
 * by lib/hypervisor's reason when it gives one, else by VIR_ERR_XEN_CALL and the words
 * of the probe's message (the native layer's wording: "refuses every … interface
 * version", "a pair this xenvirt build has no struct layout for").
 */
export function isInterfaceUnsupported(e: unknown): boolean {
  if (!isVirError(e)) return false;
  const reason = (e as { reason?: unknown }).reason;
  if (reason === 'interface-unsupported') return true;
  return e.code === ErrorCode.XEN_CALL && /interface version|no struct layout|unsupported interface/i.test(e.message);
}

export interface OpenedSubDrivers {
  subs: Map<SubDriverName, SubDriver>;
  /** Why the connection has less than it could (see the no-dead-connection rule above). */
  warnings: VirError[];
}

/** Open the sub-drivers for one connection by the rules above. */
export async function openSubDrivers(factories: readonly SubDriverFactory[], ctx: SubDriverContext): Promise<OpenedSubDrivers> {
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
  const warnings: VirError[] = [];
  for (const factory of factories) {
    if (disabled.has(factory.name)) continue;
    try {
      const sub = await factory.open(ctx);
      opened.set(factory.name, sub);
    } catch (e) {
      const why = isVirError(e) || e instanceof Error ? e.message : String(e);
      if (factory.name === 'hypervisor' && isInterfaceUnsupported(e)) {
        const w = new VirError(
          `${ctx.uri.href} opened without the hypervisor sub-driver (hypercalls): ${why}. ` +
            'XenStore and the toolstack answer instead; CPU time, paused state and vCPU details are not available',
          { code: ErrorCode.XEN_CALL, domain: ErrorDomain.XEN, cause: e },
        );
        warnings.push(w);
        ctx.log(w.message);
        continue;
      }
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
  return { subs: opened, warnings };
}
