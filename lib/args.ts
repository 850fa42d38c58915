/**
 * Argument checks for the public API, with exact messages (VIR_ERR_INVALID_ARG).
 * Drivers may assume what passes here: strings are strings, numbers are safe integers.
 */
import { VirError, ErrorCode, ErrorDomain } from './errors.js';
import { canonicalUUID } from './domain/uuid.js';

function invalid(message: string): VirError {
  return new VirError(message, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.NONE });
}

export function checkString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${what} must be a non-empty string`);
  if (value.includes('\0')) throw invalid(`${what} must not contain a NUL character`);
  return value;
}

export function checkName(value: unknown, what = 'name'): string {
  const s = checkString(value, what);
  if (s.length > 1024) throw invalid(`${what} is too long (${s.length} characters; the limit is 1024)`);
  return s;
}

export function checkUInt(value: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${what} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  if (value > max) throw invalid(`${what} must be at most ${max}, got ${value}`);
  return value;
}

export function checkPositive(value: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = checkUInt(value, what, max);
  if (n === 0) throw invalid(`${what} must be greater than zero`);
  return n;
}

/** Accepts libvirt's UUID spellings (with or without dashes) and returns the canonical one. */
export function checkUUID(value: unknown, what = 'uuid'): string {
  const s = checkString(value, what);
  const uuid = canonicalUUID(s);
  if (uuid === undefined) throw invalid(`${what} '${s.trim()}' is not a valid UUID`);
  return uuid;
}

export function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`${what} must be true or false`);
  return value;
}

export function checkCpuMap(value: unknown, what = 'cpumap'): number[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(`${what} must be a non-empty array of CPU numbers`);
  const seen = new Set<number>();
  for (const v of value) seen.add(checkUInt(v, `${what} entry`, 4095));
  return [...seen].sort((a, b) => a - b);
}

export function checkFlags<T extends object>(value: unknown, what: string, allowed: readonly (keyof T & string)[]): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${what} must be an object`);
  for (const k of Object.keys(value)) {
    if (!allowed.includes(k as keyof T & string)) throw invalid(`${what}: unknown option '${k}' (allowed: ${allowed.join(', ')})`);
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined && typeof v !== 'boolean') throw invalid(`${what}.${k} must be true or false`);
  }
  return value as T;
}
