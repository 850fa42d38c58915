/**
 * xend's S-expression syntax: lists in parentheses, bare atoms, and quoted atoms
 * ('…' or "…", backslash escapes the next character). The reader is iterative, so
 * deeply nested input cannot exhaust the stack, and bounded in size and depth.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';

export type Sexpr = string | SexprList;
export interface SexprList extends Array<Sexpr> {}

const MAX_LENGTH = 16 * 1024 * 1024;
const MAX_DEPTH = 256;

function syntax(message: string, text: string, pos: number): VirError {
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return new VirError(`S-expression error at line ${line}, column ${col}: ${message}`, {
    code: ErrorCode.INTERNAL_ERROR,
    domain: ErrorDomain.SEXPR,
  });
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

export interface SexprParseOptions {
  /**
   * Tolerate what xend output and libvirt's reader tolerate: lists still open at the end
   * of input are closed there, and anything after the first complete expression (such as
   * a stray ')') is ignored. Strict (the default) rejects both.
   */
  lenient?: boolean;
}

/** Parse one S-expression (a list or an atom); anything but whitespace after it is an error. */
export function parseSexpr(text: string, opts: SexprParseOptions = {}): Sexpr {
  const lenient = opts.lenient === true;
  if (typeof text !== 'string') throw new VirError('S-expression must be a string', { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.SEXPR });
  if (text.length > MAX_LENGTH) throw syntax(`input is too large (${text.length} characters)`, text, 0);
  const stack: SexprList[] = [];
  let result: Sexpr | undefined;
  let i = 0;
  const n = text.length;
  const emit = (v: Sexpr, at: number) => {
    if (stack.length > 0) stack[stack.length - 1]!.push(v);
    else if (result === undefined) result = v;
    else throw syntax('unexpected data after the end of the expression', text, at);
  };
  while (i < n) {
    if (lenient && result !== undefined && stack.length === 0) break;
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === 40 /* ( */) {
      if (stack.length === 0 && result !== undefined) throw syntax('unexpected data after the end of the expression', text, i);
      if (stack.length >= MAX_DEPTH) throw syntax(`lists nested deeper than ${MAX_DEPTH}`, text, i);
      stack.push([]);
      i++;
    } else if (c === 41 /* ) */) {
      const top = stack.pop();
      if (!top) throw syntax("unbalanced ')'", text, i);
      i++;
      emit(top, i);
    } else if (c === 39 || c === 34 /* ' " */) {
      const start = i;
      let out = '';
      i++;
      let closed = false;
      const quoteChar = c === 39 ? "'" : '"';
      // Copy runs up to the next quote or backslash in one slice. Both positions are
      // cached and only searched again once passed, so the scan stays linear.
      let q = -2;
      let b = -2;
      while (i < n) {
        if (q !== -1 && q < i) q = text.indexOf(quoteChar, i);
        if (b !== -1 && b < i) b = text.indexOf('\\', i);
        if (q < 0) {
          i = n;
          break;
        }
        if (b >= 0 && b < q) {
          out += text.slice(i, b);
          if (b + 1 >= n) {
            i = n;
            break;
          }
          out += text[b + 1];
          i = b + 2;
          continue;
        }
        out += text.slice(i, q);
        i = q + 1;
        closed = true;
        break;
      }
      if (!closed) throw syntax('unterminated quoted string', text, start);
      emit(out, i);
    } else {
      const start = i;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (isSpace(d) || d === 40 || d === 41) break;
        i++;
      }
      emit(text.slice(start, i), start);
    }
  }
  if (stack.length > 0) {
    if (!lenient) throw syntax(`${stack.length} unclosed '('`, text, n);
    while (stack.length > 0) emit(stack.pop()!, n);
  }
  if (result === undefined) throw syntax('empty input', text, 0);
  return result;
}

/** Quote an atom the way libvirt writes values: '…' with ' and \ escaped. */
export function quoteAtom(s: string): string {
  if (!s.includes("'") && !s.includes('\\')) return `'${s}'`;
  return `'${s.replace(/[\\']/g, (m) => '\\' + m)}'`;
}

/** Write an expression back; atoms that need it are quoted. */
export function formatSexpr(e: Sexpr): string {
  if (typeof e === 'string') return e !== '' && /^[^\s()'"\\]+$/.test(e) ? e : quoteAtom(e);
  return '(' + e.map(formatSexpr).join(' ') + ')';
}

/** The list child of `node` whose head atom is `name` (first one). */
export function sexprChild(node: Sexpr | undefined, name: string): SexprList | undefined {
  if (!Array.isArray(node)) return undefined;
  for (let i = 1; i < node.length; i++) {
    const c = node[i];
    if (Array.isArray(c) && c[0] === name) return c;
  }
  return undefined;
}

/** Every list child of `node` whose head atom is `name`. */
export function sexprChildren(node: Sexpr | undefined, name: string): SexprList[] {
  if (!Array.isArray(node)) return [];
  const out: SexprList[] = [];
  for (let i = 1; i < node.length; i++) {
    const c = node[i];
    if (Array.isArray(c) && c[0] === name) out.push(c);
  }
  return out;
}

/** Follow a '/'-separated path of list heads from `node` (the root's own head is not part of the path). */
export function sexprLookup(node: Sexpr | undefined, path: string): SexprList | undefined {
  let cur: Sexpr | undefined = node;
  for (const part of path.split('/')) {
    cur = sexprChild(cur, part);
    if (!cur) return undefined;
  }
  return cur as SexprList;
}

/** The atom value at `path` (the second element of the list found there). */
export function sexprGet(node: Sexpr | undefined, path: string): string | undefined {
  const l = sexprLookup(node, path);
  if (!l || l.length < 2) return undefined;
  const v = l[1];
  return typeof v === 'string' ? v : undefined;
}

/** A whole-number value at `path`; undefined when absent; VirError when not a number. */
export function sexprInt(node: Sexpr | undefined, path: string): number | undefined {
  const v = sexprGet(node, path);
  if (v === undefined) return undefined;
  if (!/^-?[0-9]+$/.test(v.trim())) {
    throw new VirError(`S-expression field '${path}' is not a number: '${v}'`, { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.SEXPR });
  }
  const n = Number(v.trim());
  if (!Number.isSafeInteger(n)) {
    throw new VirError(`S-expression field '${path}' is out of range: '${v}'`, { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.SEXPR });
  }
  return n;
}
