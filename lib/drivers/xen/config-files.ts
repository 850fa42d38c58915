/**
 * Which file names in a Xen config directory can be domain configs, and which names a
 * domain may have so that `<dir>/<name>` is a safe file of its own there.
 */
import { ErrorCode, ErrorDomain, VirError } from '../../errors.js';

const NAME_MAX_BYTES = 255;

/** The toolstack's and daemons' own files that live beside domain configs in /etc/xen. */
const TOOLSTACK_FILES: ReadonlySet<string> = new Set(['xl.conf', 'oxenstored.conf', 'xenstored.conf', 'cpupool', 'xenapiusers', 'auto', 'scripts']);

/**
 * Not a domain config, the way xm/xl users keep /etc/xen: hidden files (also editor
 * locks `.#name` and our own temp files), editor backups and swap files (`name~`,
 * `#name#`, `*.bak`, `*.swp`, …), package-manager leftovers, xend's daemon and PCI
 * settings (`xend-config*`, `*.sxp`), the shipped examples, README files, xl's global
 * settings and the other toolstack files, and the auto/ and scripts/ directories.
 */
export function isSkippedConfigName(name: string): boolean {
  return (
    name.startsWith('.') ||
    name.endsWith('~') ||
    /^#.*#$/.test(name) ||
    /\.(bak|old|orig|rej|swp|swo|tmp|save|dpkg-(old|new|dist|bak|tmp)|rpmsave|rpmnew|ucf-(old|new|dist))$/i.test(name) ||
    /\.sxp$/.test(name) ||
    name.startsWith('xend-config') ||
    name.startsWith('xmexample') ||
    name.startsWith('xlexample') ||
    /^readme/i.test(name) ||
    TOOLSTACK_FILES.has(name)
  );
}

/** Refuse a domain name that cannot safely be a file name of its own in the config dir. */
export function checkDomainFileName(name: string): string {
  const why =
    name === ''
      ? 'it is empty'
      : name.includes('\0')
        ? 'it contains a NUL byte'
        : name.includes('/')
          ? "it contains '/'"
          : name.includes('..')
            ? "it contains '..'"
            : name.startsWith('.')
              ? 'it starts with a dot'
              : Buffer.byteLength(name, 'utf8') > NAME_MAX_BYTES
                ? `it is longer than ${NAME_MAX_BYTES} bytes`
                : isSkippedConfigName(name)
                  ? 'files of that name are not read back as domain configs (backup, example or xend/xl settings)'
                  : undefined;
  if (why) {
    throw new VirError(`domain name ${JSON.stringify(name.replace(/\0/g, '\\0'))} cannot be a config file name: ${why}`, {
      code: ErrorCode.INVALID_ARG,
      domain: ErrorDomain.XENXM,
    });
  }
  return name;
}
