/**
 * XenStore path rules, checked before anything is sent so that callers get a precise
 * message instead of the daemon's bare EINVAL.
 *
 * A path is absolute (`/local/domain/0`) or relative to the connection's home
 * (`device/vif/0`, which the daemon resolves against /local/domain/<domid>); components
 * are ASCII letters, digits and `-_@`, separated by single `/`, no trailing `/` (except
 * the root). Watches also accept the special paths `@introduceDomain`, `@releaseDomain`.
 */
import { ErrorCode } from '../errors.js';
import { XenStoreError } from './errors.js';
import { ABS_PATH_MAX, REL_PATH_MAX, SPECIAL_WATCH_PATHS } from './wire.js';

const VALID = /^[A-Za-z0-9\-_@/]*$/;

function invalid(path: string, why: string): XenStoreError {
  const shown = path.length > 80 ? `${JSON.stringify(path.slice(0, 80))}…` : JSON.stringify(path);
  return new XenStoreError(`invalid XenStore path ${shown}: ${why}`, { code: ErrorCode.INVALID_ARG, syscall: 'EINVAL', path });
}

/** Throw a XenStoreError (EINVAL) unless `path` names a node. */
export function validatePath(path: unknown): asserts path is string {
  if (typeof path !== 'string') throw invalid(String(path), `expected a string, got ${typeof path}`);
  if (path.length === 0) throw invalid(path, 'empty');
  if (path.includes('\0')) throw invalid(path, 'contains a NUL byte');
  const abs = path.startsWith('/');
  const max = abs ? ABS_PATH_MAX : REL_PATH_MAX;
  if (Buffer.byteLength(path) > max) {
    throw invalid(path, `${abs ? 'absolute' : 'relative'} paths are limited to ${max} bytes`);
  }
  if (!VALID.test(path)) throw invalid(path, 'only letters, digits and -_@/ are allowed');
  if (path.includes('//')) throw invalid(path, 'empty component ("//")');
  if (path.length > 1 && path.endsWith('/')) throw invalid(path, 'trailing "/"');
}

/** Like validatePath, but also accepts the special watch paths. */
export function validateWatchPath(path: unknown): asserts path is string {
  if (typeof path === 'string' && (SPECIAL_WATCH_PATHS as readonly string[]).includes(path)) return;
  validatePath(path);
}

/** Watch tokens travel NUL-terminated: no NUL inside. */
export function validateToken(token: unknown): asserts token is string {
  if (typeof token !== 'string' || token.length === 0 || token.includes('\0')) {
    throw new XenStoreError(`invalid XenStore watch token ${JSON.stringify(token)}: a non-empty string without NUL is required`, {
      code: ErrorCode.INVALID_ARG,
      syscall: 'EINVAL',
    });
  }
}
