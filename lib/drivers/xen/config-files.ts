/**
 * Which file names in a Xen config directory can be domain configs, and which names a
 * domain may have so that `<dir>/<name>` is a safe file of its own there.
 */
import { ErrorCode, ErrorDomain, VirError } from '../../errors.js';

const NAME_MAX_BYTES = 255;

/**
 * Not a domain config: hidden files (also our own temp files), editor backups and
 * autosaves, package-manager leftovers, xend's daemon config, the shipped examples,
 * and xl's global settings.
 */
export function isSkippedConfigName(name: string): boolean {
  return (
    name.startsWith('.') ||
    name.endsWith('~') ||
    /^#.*#$/.test(name) ||
    /\.(bak|orig|rej|swp|tmp|dpkg-(old|new|dist|bak|tmp)|rpmsave|rpmnew|ucf-(old|new|dist))$/.test(name) ||
    name.startsWith('xend-config.sxp') ||
    name.startsWith('xmexample') ||
    name.startsWith('xlexample') ||
    name === 'xl.conf' ||
    name === 'auto' ||
    name === 'scripts'
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
