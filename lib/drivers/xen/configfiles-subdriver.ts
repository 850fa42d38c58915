/**
 * The config-file sub-driver ("configfiles"): inactive domains as xl/xm config files in
 * one directory (default /etc/xen); it reads both syntaxes and writes xl's.
 *
 * The directory is read once, then kept current by an fs watch (inotify on Linux): a
 * call rescans only after the watch reported a change, and then re-reads only files
 * whose (mtime, size, inode) changed. Where no watch can be had (some network
 * filesystems), the directory is rescanned at most every `maxAgeMs` instead. Only
 * domain configs are read (config-files.ts says which names are not). Writes go
 * through a temp file + fsync + rename so a reader never sees half a config.
 */
import { watch, type FSWatcher } from 'node:fs';
import { lstat, mkdir, readFile, readdir, readlink, rename, stat, symlink, unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ErrorCode, ErrorDomain, VirError, isVirError } from '../../errors.js';
import type { DomainInfo, DomainRef, ListDomainsFlags, XMLDescFlags } from '../../driver.js';
import type { DomainDef } from '../../domain/index.js';
import { checkDomainFileName, isSkippedConfigName } from './config-files.js';
import type { SubDriver, SubDriverContext, SubDriverFactory } from './subdriver.js';
import { sameUUID } from './live-domain.js';

export const DEFAULT_CONFIG_DIR = '/etc/xen';
/** Without a watch: longest time a change stays unseen. */
export const DEFAULT_MAX_AGE_MS = 2000;

interface Entry {
  file: string;
  mtimeMs: number;
  size: number;
  ino: number;
  def?: DomainDef;
}

function err(code: string, message: string, extra: { cause?: unknown } = {}): VirError {
  return new VirError(message, { code, domain: ErrorDomain.XENXM, ...extra });
}

function fsError(what: string, e: unknown): VirError {
  if (isVirError(e)) return e;
  const ne = e as NodeJS.ErrnoException;
  return new VirError(`${what}: ${ne.message}`, {
    code: ErrorCode.SYSTEM_ERROR,
    domain: ErrorDomain.XENXM,
    ...(typeof ne.errno === 'number' ? { errno: Math.abs(ne.errno) } : {}),
    ...(ne.code ? { syscall: ne.code } : {}),
    cause: e,
  });
}

/*
 * The converters, the domain XML code, node:crypto (temp names) and the atomic writer
 * load on the first call that needs them, not with the open (issue 15: a `list` starts
 * like node). Listing still parses every candidate file in the directory, so the config
 * readers load on the first scan that finds one; an empty directory loads none of them.
 */

/** xl syntax first (what we write, and a superset for most files), then xm's. */
async function parseConfig(text: string): Promise<DomainDef> {
  const [{ domainFromXL }, { domainFromXM }] = await Promise.all([import('../../convert/xl-config.js'), import('../../convert/xm-config.js')]);
  try {
    return domainFromXL(text);
  } catch (xlError) {
    try {
      return domainFromXM(text);
    } catch {
      throw xlError;
    }
  }
}

export interface ConfigFilesSubDriverOptions {
  maxAgeMs?: number;
}

export class ConfigFilesSubDriver implements SubDriver {
  readonly name = 'configfiles' as const;
  readonly dir: string;
  readonly #ctx: SubDriverContext;
  readonly #maxAgeMs: number;
  readonly #entries = new Map<string, Entry>();
  /** Parse failures already logged, by file + mtime, so each is reported once. */
  readonly #reported = new Set<string>();
  #watcher: FSWatcher | undefined;
  #dirty = true;
  #lastScan = 0;
  #scanning: Promise<void> | undefined;
  #closed = false;
  /** Files read from disk so far (tests check the cache with it). */
  reads = 0;
  /** Directory scans so far (tests check that calls do not rescan under a watch). */
  scans = 0;

  constructor(dir: string, ctx: SubDriverContext, options: ConfigFilesSubDriverOptions = {}) {
    this.dir = resolve(dir);
    this.#ctx = ctx;
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  }

  /** Start watching the directory; without a watch the bounded rescan still applies. */
  startWatch(): void {
    try {
      const w = watch(this.dir, { persistent: false }, () => {
        this.#dirty = true;
      });
      w.on('error', (e) => {
        this.#ctx.log(`watching ${this.dir} failed (${e.message}); relying on the ${this.#maxAgeMs} ms rescan`);
        w.close();
        if (this.#watcher === w) this.#watcher = undefined;
        this.#dirty = true; // what happened since the last event is unknown
      });
      this.#watcher = w;
    } catch (e) {
      this.#ctx.log(`cannot watch ${this.dir} (${(e as Error).message}); relying on the ${this.#maxAgeMs} ms rescan`);
    }
  }

  // --- the cache -------------------------------------------------------------------

  async #refresh(): Promise<void> {
    if (this.#closed) throw err(ErrorCode.INVALID_CONN, 'the config-file sub-driver is closed');
    // With a live watch the cache is current until it says otherwise; without one, bounded staleness.
    if (!this.#dirty && (this.#watcher !== undefined || Date.now() - this.#lastScan < this.#maxAgeMs)) return;
    // Concurrent callers share one scan.
    this.#scanning ??= this.#scan().finally(() => {
      this.#scanning = undefined;
    });
    await this.#scanning;
  }

  async #scan(): Promise<void> {
    this.#dirty = false; // an event during the scan marks it dirty again
    this.scans++;
    const started = Date.now();
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      this.#dirty = true;
      throw fsError(`cannot read config directory ${this.dir}`, e);
    }
    const present = new Set<string>();
    await Promise.all(
      names
        .filter((n) => !isSkippedConfigName(n))
        .map(async (n) => {
          const file = join(this.dir, n);
          const st = await stat(file).catch((e: NodeJS.ErrnoException) => {
            // Gone since readdir, or a dangling link: not a config. Anything else is worth a line.
            if (e.code !== 'ENOENT') this.#ctx.log(`skipping ${file}: ${e.message}`);
            return undefined;
          });
          if (!st || !st.isFile() || st.size === 0) return;
          present.add(file);
          const old = this.#entries.get(file);
          if (old && old.mtimeMs === st.mtimeMs && old.size === st.size && old.ino === st.ino) return;
          this.#entries.set(file, await this.#load(file, st));
        }),
    );
    for (const file of [...this.#entries.keys()]) if (!present.has(file)) this.#entries.delete(file);
    this.#lastScan = started;
  }

  async #load(file: string, st: { mtimeMs: number; size: number; ino: number }): Promise<Entry> {
    const entry: Entry = { file, mtimeMs: st.mtimeMs, size: st.size, ino: st.ino };
    try {
      this.reads++;
      entry.def = await parseConfig(await readFile(file, 'utf8'));
    } catch (e) {
      const key = `${file}@${st.mtimeMs}`;
      if (!this.#reported.has(key)) {
        this.#reported.add(key);
        this.#ctx.log(`skipping ${file}: not a usable domain config (${(e as Error).message})`);
      }
    }
    return entry;
  }

  /** Valid entries, in file-name order so duplicates resolve the same way every time. */
  #domains(): (Entry & { def: DomainDef })[] {
    return [...this.#entries.values()]
      .filter((e): e is Entry & { def: DomainDef } => e.def !== undefined)
      .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }

  #byName(name: string): (Entry & { def: DomainDef }) | undefined {
    const all = this.#domains().filter((e) => e.def.name === name);
    return all.find((e) => basename(e.file) === name) ?? all[0];
  }

  #byUUID(uuid: string): (Entry & { def: DomainDef }) | undefined {
    return this.#domains().find((e) => sameUUID(e.def.uuid, uuid));
  }

  async #entryFor(dom: DomainRef): Promise<Entry & { def: DomainDef }> {
    await this.#refresh();
    const e = this.#byUUID(dom.uuid) ?? this.#byName(dom.name);
    if (!e) throw err(ErrorCode.NO_DOMAIN, `Domain not found: no config file in ${this.dir} defines domain '${dom.name}'`);
    return e;
  }

  static #ref(e: Entry & { def: DomainDef }): DomainRef {
    return { name: e.def.name, uuid: e.def.uuid, id: -1 };
  }

  /** What a definition says of an inactive domain, as getInfo reports it. */
  static #info(def: DomainDef): DomainInfo {
    return { state: 'shutoff', maxMem: def.memory, memory: def.currentMemory, nrVirtCpu: def.vcpuCurrent ?? def.vcpus, cpuTime: 0 };
  }

  // --- public methods --------------------------------------------------------------

  async listAllDomains(flags: ListDomainsFlags = {}): Promise<DomainRef[]> {
    if (flags.inactive === false || (flags.active === true && flags.inactive !== true)) return [];
    await this.#refresh();
    const seen = new Set<string>();
    const out: DomainRef[] = [];
    for (const e of this.#domains()) {
      const key = e.def.uuid.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      // From the cache: withInfo costs no file read.
      out.push(flags.withInfo ? { ...ConfigFilesSubDriver.#ref(e), info: ConfigFilesSubDriver.#info(e.def) } : ConfigFilesSubDriver.#ref(e));
    }
    return out;
  }

  async lookupDomainByName(name: string): Promise<DomainRef> {
    await this.#refresh();
    const e = this.#byName(name);
    if (!e) throw err(ErrorCode.NO_DOMAIN, `Domain not found: no config file in ${this.dir} defines a domain named '${name}'`);
    return ConfigFilesSubDriver.#ref(e);
  }

  async lookupDomainByUUID(uuid: string): Promise<DomainRef> {
    await this.#refresh();
    const e = this.#byUUID(uuid);
    if (!e) throw err(ErrorCode.NO_DOMAIN, `Domain not found: no config file in ${this.dir} defines uuid ${uuid}`);
    return ConfigFilesSubDriver.#ref(e);
  }

  async defineXML(xml: string): Promise<DomainRef> {
    const [{ parseDomainXML }, { domainToXL }, { writeFileAtomic }] = await Promise.all([
      import('../../domain/index.js'),
      import('../../convert/xl-config.js'),
      import('../../fs-atomic.js'),
    ]);
    const def = parseDomainXML(xml, { inactive: true });
    checkDomainFileName(def.name);
    await this.#refresh();
    const sameUuid = this.#byUUID(def.uuid);
    if (sameUuid && sameUuid.def.name !== def.name) {
      throw err(ErrorCode.DOM_EXIST, `domain '${sameUuid.def.name}' is already defined with uuid ${def.uuid} (${sameUuid.file})`);
    }
    const sameName = this.#byName(def.name);
    if (sameName && !sameUUID(sameName.def.uuid, def.uuid)) {
      throw err(ErrorCode.DOM_EXIST, `domain '${def.name}' is already defined with uuid ${sameName.def.uuid}`);
    }
    const file = sameName?.file ?? join(this.dir, def.name);
    const occupant = this.#entries.get(file);
    if (!sameName && (occupant || (await lstat(file).catch(() => undefined)))) {
      // <dir>/<name> holds something that is not this domain's config: never overwrite it.
      const what = occupant?.def ? `domain '${occupant.def.name}'` : 'a file that is not a usable domain config';
      throw err(ErrorCode.DOM_EXIST, `cannot define '${def.name}': ${file} already holds ${what}`);
    }
    delete def.id;
    const text = domainToXL(def);
    try {
      // 0600: configs may carry VNC passwords.
      await writeFileAtomic(file, text.endsWith('\n') ? text : `${text}\n`, 0o600);
    } catch (e) {
      throw fsError(`cannot write ${file}`, e);
    }
    const st = await stat(file);
    this.#entries.set(file, { file, mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, def });
    return { name: def.name, uuid: def.uuid, id: -1 };
  }

  async domainUndefine(dom: DomainRef): Promise<DomainRef> {
    const e = await this.#entryFor(dom);
    await this.#removeAutostart(e.file);
    try {
      await unlink(e.file);
    } catch (x) {
      if ((x as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(`cannot remove ${e.file}`, x);
    }
    this.#entries.delete(e.file);
    return { ...dom };
  }

  async domainGetInfo(dom: DomainRef): Promise<DomainInfo> {
    if (dom.id >= 0) {
      // Reached only when the live sources failed: a file cannot say how a running domain is.
      throw err(ErrorCode.NO_SUPPORT, `a config file cannot tell the state of running domain '${dom.name}'`);
    }
    const { def } = await this.#entryFor(dom);
    return ConfigFilesSubDriver.#info(def);
  }

  async domainGetXMLDesc(dom: DomainRef, _flags: XMLDescFlags = {}): Promise<string> {
    const { def } = await this.#entryFor(dom);
    const { formatDomainXML } = await import('../../domain/index.js');
    return formatDomainXML(def, { inactive: true });
  }

  // --- autostart: <dir>/auto/<file> -> <dir>/<file> ---------------------------------

  #autoLink(file: string): string {
    return join(this.dir, 'auto', basename(file));
  }

  async #linksTo(link: string, file: string): Promise<boolean> {
    try {
      const target = await readlink(link);
      return resolve(join(this.dir, 'auto'), target) === file;
    } catch {
      return false;
    }
  }

  async #removeAutostart(file: string): Promise<void> {
    const link = this.#autoLink(file);
    if (!(await this.#linksTo(link, file))) return;
    await unlink(link).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw fsError(`cannot remove ${link}`, e);
    });
  }

  async domainGetAutostart(dom: DomainRef): Promise<boolean> {
    const e = await this.#entryFor(dom);
    return this.#linksTo(this.#autoLink(e.file), e.file);
  }

  async domainSetAutostart(dom: DomainRef, on: boolean): Promise<void> {
    const e = await this.#entryFor(dom);
    const link = this.#autoLink(e.file);
    if (!on) return this.#removeAutostart(e.file);
    if (await this.#linksTo(link, e.file)) return;
    const existing = await lstat(link).catch(() => undefined);
    if (existing && !existing.isSymbolicLink()) {
      throw err(ErrorCode.OPERATION_FAILED, `cannot enable autostart: ${link} exists and is not a symlink`);
    }
    try {
      await mkdir(join(this.dir, 'auto'), { recursive: true, mode: 0o755 });
      // Make the link beside it and rename it into place: the switch is atomic.
      const { randomBytes } = await import('node:crypto');
      const tmp = join(this.dir, 'auto', `.${basename(e.file)}.${randomBytes(6).toString('hex')}.tmp`);
      await symlink(e.file, tmp);
      await rename(tmp, link).catch(async (x: unknown) => {
        await unlink(tmp).catch(() => {});
        throw x;
      });
    } catch (x) {
      throw fsError(`cannot enable autostart for '${dom.name}'`, x);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

export const configFilesSubDriverFactory: SubDriverFactory = {
  name: 'configfiles',
  async open(ctx: SubDriverContext) {
    const dir = ctx.options.configDir ?? DEFAULT_CONFIG_DIR;
    const st = await stat(dir).catch((e: unknown) => {
      throw fsError(`cannot use config directory ${dir}`, e);
    });
    if (!st.isDirectory()) throw err(ErrorCode.OPEN_FAILED, `config directory ${dir} is not a directory`);
    const sub = new ConfigFilesSubDriver(dir, ctx);
    sub.startWatch();
    return sub;
  },
};
