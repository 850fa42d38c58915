/**
 * The toolstack sub-driver: what needs Xen's own toolstack. Since Xen 4.5 there is no
 * xend; building, saving and restoring a domain is libxl's job, reached through `xl`
 * (see xl-runner.ts). Configs handed to `xl create` come from our XML -> xl converter.
 *
 * Running domains are named to xl by name (unique among running domains, and not
 * fooled by an id that was reused), or by id when the name is all digits (xl would
 * read such a name as an id).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ErrorCode, ErrorDomain, VirError } from '../../errors.js';
import type { DomainRef } from '../../driver.js';
import type { SubDriver, SubDriverContext, SubDriverFactory } from './subdriver.js';
import { findExecutable, runXl } from './xl-runner.js';
import { requireRunning, sameUUID } from './live-domain.js';

/** Bounds on one xl run: building or saving a domain is slow (minutes under emulation). */
export const XL_TIMEOUT_MS = { quick: 60_000, build: 300_000 } as const;

function checkPath(path: string, what: string): string {
  if (typeof path !== 'string' || path === '' || path.includes('\0')) {
    throw new VirError(`${what} must be a non-empty path without NUL`, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEN });
  }
  // Absolute, so it can never start with '-' and be read by xl as an option.
  return isAbsolute(path) ? path : resolve(path);
}

export class ToolstackSubDriver implements SubDriver {
  readonly name = 'toolstack' as const;
  readonly xl: string;
  #closed = false;

  constructor(xl: string) {
    this.xl = xl;
  }

  async #xl(args: string[], timeoutMs: number = XL_TIMEOUT_MS.quick) {
    if (this.#closed) throw new VirError('the toolstack sub-driver is closed', { code: ErrorCode.INVALID_CONN, domain: ErrorDomain.XEN });
    return runXl(this.xl, args, timeoutMs);
  }

  /** How to name a running domain to xl. */
  #target(dom: DomainRef): string {
    const id = requireRunning(dom);
    return /^\d+$/.test(dom.name) ? String(id) : dom.name;
  }

  async getVersion(): Promise<number> {
    const { stdout } = await this.#xl(['info']);
    const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(\\S+)`, 'm').exec(stdout)?.[1];
    const major = Number(field('xen_major'));
    const minor = Number(field('xen_minor'));
    const release = Number.parseInt((field('xen_extra') ?? '').replace(/^\./, ''), 10);
    if (!Number.isInteger(major) || !Number.isInteger(minor)) {
      throw new VirError('xl info did not report xen_major/xen_minor', { code: ErrorCode.OPERATION_FAILED, domain: ErrorDomain.XEN });
    }
    return major * 1_000_000 + minor * 1000 + (Number.isFinite(release) ? release : 0);
  }

  /** Convert XML to an xl config, `xl create` it from a private temp file, return the new ref. */
  async #build(xml: string): Promise<DomainRef> {
    // The domain XML code and the xl writer load on the first build, not with the open.
    const [{ parseDomainXML }, { domainToXL }] = await Promise.all([import('../../domain/index.js'), import('../../convert/xl-config.js')]);
    const def = parseDomainXML(xml, { inactive: true });
    delete def.id;
    const config = domainToXL(def);
    const dir = await mkdtemp(join(tmpdir(), 'xenvirt-xl-'));
    try {
      const file = join(dir, 'domain.cfg');
      await writeFile(file, config, { mode: 0o600 });
      await this.#xl(['create', file], XL_TIMEOUT_MS.build);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const { stdout } = await this.#xl(['domid', def.name]);
    const id = Number(stdout.trim());
    if (!Number.isInteger(id) || id < 0) {
      throw new VirError(`xl created '${def.name}' but xl domid answered '${stdout.trim()}'`, { code: ErrorCode.OPERATION_FAILED, domain: ErrorDomain.XEN });
    }
    return { name: def.name, uuid: def.uuid, id };
  }

  async createXML(xml: string): Promise<DomainRef> {
    return this.#build(xml);
  }

  /** Start a defined domain; the unified driver passes its stored definition (routing: needsDefinition). */
  async domainCreate(dom: DomainRef, definition?: string): Promise<DomainRef> {
    if (typeof definition !== 'string') {
      throw new VirError(`starting '${dom.name}' needs its definition, and none was given`, { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.XEN });
    }
    const { parseDomainXML } = await import('../../domain/index.js');
    const def = parseDomainXML(definition, { inactive: true });
    if (!sameUUID(def.uuid, dom.uuid)) {
      throw new VirError(`definition of '${def.name}' (${def.uuid}) is not the domain asked for ('${dom.name}', ${dom.uuid})`, { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.XEN });
    }
    return this.#build(definition);
  }

  async domainSuspend(dom: DomainRef): Promise<void> {
    await this.#xl(['pause', this.#target(dom)]);
  }

  async domainResume(dom: DomainRef): Promise<void> {
    await this.#xl(['unpause', this.#target(dom)]);
  }

  async domainShutdown(dom: DomainRef): Promise<void> {
    await this.#xl(['shutdown', this.#target(dom)]);
  }

  async domainReboot(dom: DomainRef): Promise<void> {
    await this.#xl(['reboot', this.#target(dom)]);
  }

  async domainDestroy(dom: DomainRef): Promise<DomainRef> {
    await this.#xl(['destroy', this.#target(dom)]);
    return { ...dom, id: -1 };
  }

  async domainSetMemory(dom: DomainRef, kib: number): Promise<void> {
    await this.#xl(['mem-set', this.#target(dom), `${kib}k`]);
  }

  async domainSetMaxMemory(dom: DomainRef, kib: number): Promise<void> {
    await this.#xl(['mem-max', this.#target(dom), `${kib}k`]);
  }

  async domainSetVcpus(dom: DomainRef, count: number): Promise<void> {
    await this.#xl(['vcpu-set', this.#target(dom), String(count)]);
  }

  async domainSave(dom: DomainRef, path: string): Promise<DomainRef> {
    await this.#xl(['save', this.#target(dom), checkPath(path, 'save path')], XL_TIMEOUT_MS.build);
    return { ...dom, id: -1 };
  }

  async restore(path: string): Promise<void> {
    await this.#xl(['restore', checkPath(path, 'restore path')], XL_TIMEOUT_MS.build);
  }

  /**
   * Write the domain's memory to a core file (`xl dump-core`). Not in the public
   * driver table yet (HypervisorDriver has no core-dump method), so not routed.
   */
  async domainCoreDump(dom: DomainRef, path: string): Promise<void> {
    await this.#xl(['dump-core', this.#target(dom), checkPath(path, 'core dump path')], XL_TIMEOUT_MS.build);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

export const toolstackSubDriverFactory: SubDriverFactory = {
  name: 'toolstack',
  async open(ctx: SubDriverContext) {
    if (!ctx.privileged) {
      throw new VirError('xl needs root', { code: ErrorCode.OPERATION_DENIED, domain: ErrorDomain.XEN });
    }
    const wanted = ctx.options.xlPath ?? 'xl';
    const xl = await findExecutable(wanted);
    if (!xl) throw new VirError(`the Xen toolstack is not installed: no executable '${wanted}' found`, { code: ErrorCode.NO_SUPPORT, domain: ErrorDomain.XEN });
    return new ToolstackSubDriver(xl);
  },
};
