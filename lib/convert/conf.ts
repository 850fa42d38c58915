/**
 * The xm/xl configuration file syntax (libvirt's "virConf"): `name = value` settings where
 * a value is an integer, a string ('…', "…" with backslash escapes, or raw """…"""), or a
 * [ list, … ] of values (lists nest, e.g. xl's vnuma). `#` starts a comment; a backslash
 * at the end of a line continues the setting on the next; `;` may end a setting.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';

export type ConfValue = string | number | ConfValue[];
export interface ConfEntry {
  name: string;
  value: ConfValue;
}

const MAX_LENGTH = 4 * 1024 * 1024;
const MAX_DEPTH = 32;

function syntax(line: number, message: string): VirError {
  return new VirError(`configuration file syntax error at line ${line}: ${message}`, { code: ErrorCode.CONF_SYNTAX, domain: ErrorDomain.CONF });
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'" };

class Reader {
  pos = 0;
  line = 1;
  constructor(readonly s: string) {}

  peek(): string {
    return this.s[this.pos] ?? '';
  }

  /** Skip blanks, comments and (when newlines=true) line ends; backslash-newline always. */
  blank(newlines: boolean): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '\\' && (s[this.pos + 1] === '\n' || (s[this.pos + 1] === '\r' && s[this.pos + 2] === '\n'))) {
        this.pos += s[this.pos + 1] === '\n' ? 2 : 3;
        this.line++;
      } else if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else if (c === '\n' && newlines) {
        this.pos++;
        this.line++;
      } else break;
    }
  }

  name(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(this.s.slice(this.pos, this.pos + 256));
    if (!m) throw syntax(this.line, `expected a setting name, found ${this.describe()}`);
    this.pos += m[0].length;
    return m[0];
  }

  describe(): string {
    const c = this.peek();
    return c === '' ? 'end of file' : c === '\n' ? 'end of line' : `'${c}'`;
  }

  string(): string {
    const s = this.s;
    const startLine = this.line;
    if (s.startsWith('"""', this.pos)) {
      const end = s.indexOf('"""', this.pos + 3);
      if (end < 0) throw syntax(startLine, 'unterminated """ string');
      const v = s.slice(this.pos + 3, end);
      for (const ch of v) if (ch === '\n') this.line++;
      this.pos = end + 3;
      return v;
    }
    const quote = s[this.pos]!;
    this.pos++;
    let out = '';
    // Copy runs of plain characters in one slice; stop only at the quote, a backslash or a newline.
    const special = quote === '"' ? /["\\\n]/g : /['\\\n]/g;
    while (true) {
      special.lastIndex = this.pos;
      const m = special.exec(s);
      if (!m) throw syntax(startLine, `unterminated ${quote} string`);
      out += s.slice(this.pos, m.index);
      this.pos = m.index;
      const c = m[0];
      if (c === quote) {
        this.pos++;
        return out;
      }
      if (c === '\n') throw syntax(this.line, `newline inside a ${quote} string`);
      const e = s[this.pos + 1];
      if (e === undefined) throw syntax(this.line, 'backslash at end of file');
      if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(this.pos + 2, this.pos + 4))) {
        out += String.fromCharCode(parseInt(s.slice(this.pos + 2, this.pos + 4), 16));
        this.pos += 4;
        continue;
      }
      // An unknown escape keeps its backslash, as xl does.
      out += ESCAPES[e] ?? '\\' + e;
      this.pos += 2;
    }
  }

  value(depth: number): ConfValue {
    const c = this.peek();
    if (c === '"' || c === "'") return this.string();
    if (c === '[') {
      if (depth >= MAX_DEPTH) throw syntax(this.line, `lists nested deeper than ${MAX_DEPTH}`);
      this.pos++;
      const list: ConfValue[] = [];
      this.blank(true);
      while (this.peek() !== ']') {
        if (this.peek() === '') throw syntax(this.line, "unterminated list: expected ']'");
        list.push(this.value(depth + 1));
        this.blank(true);
        if (this.peek() === ',') {
          this.pos++;
          this.blank(true);
        } else if (this.peek() === '') throw syntax(this.line, "unterminated list: expected ']'");
        else if (this.peek() !== ']') throw syntax(this.line, `expected ',' or ']' in list, found ${this.describe()}`);
      }
      this.pos++;
      return list;
    }
    const m = /^[-+]?[0-9]+(?![A-Za-z0-9_.])/.exec(this.s.slice(this.pos, this.pos + 64));
    if (m) {
      const n = Number(m[0]);
      if (!Number.isSafeInteger(n)) throw syntax(this.line, `number ${m[0]} is out of range`);
      this.pos += m[0].length;
      return n;
    }
    throw syntax(this.line, `expected a value (number, string or list), found ${this.describe()}`);
  }
}

/** Parse a whole config file into its settings, in file order. */
export function parseConf(text: string): ConfEntry[] {
  if (typeof text !== 'string') throw new VirError('configuration must be a string', { code: ErrorCode.CONF_SYNTAX, domain: ErrorDomain.CONF });
  if (text.length > MAX_LENGTH) throw syntax(1, `file is too large (${text.length} characters)`);
  const r = new Reader(text);
  const out: ConfEntry[] = [];
  while (true) {
    r.blank(true);
    if (r.peek() === ';') {
      r.pos++;
      continue;
    }
    if (r.pos >= text.length) break;
    const name = r.name();
    r.blank(false);
    if (r.peek() !== '=') throw syntax(r.line, `expected '=' after '${name}', found ${r.describe()}`);
    r.pos++;
    r.blank(false);
    const value = r.value(0);
    r.blank(false);
    const c = r.peek();
    if (c === ';') r.pos++;
    else if (c !== '\n' && c !== '') throw syntax(r.line, `unexpected ${r.describe()} after the value of '${name}'`);
    out.push({ name, value });
  }
  return out;
}

/** The value of the last setting with this name (later settings override earlier ones). */
export function confGet(entries: ConfEntry[], name: string): ConfValue | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.name === name) return entries[i]!.value;
  return undefined;
}

/** True when s holds none of '"', '\\', newline, carriage return. */
function isPlainString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 92 || c === 10 || c === 13) return false;
  }
  return true;
}

function formatString(s: string, tripleQuotes: boolean): string {
  if (isPlainString(s)) return `"${s}"`;
  // Raw triple quotes keep a '"' readable exactly as libvirt writes it; everything else
  // goes in "…" with the two characters that could end or bend the string escaped.
  if (tripleQuotes && s.includes('"') && !s.includes('"""') && !s.endsWith('"') && !/[\\\n\r]/.test(s)) return `"""${s}"""`;
  return '"' + s.replace(/[\\"]/g, (m) => '\\' + m).replace(/\n/g, '\\n').replace(/\r/g, '\\r') + '"';
}

export interface FormatConfOptions {
  /** Write a string holding '"' as """…""" (virConf, xm); xl's parser has no such syntax. */
  tripleQuotes?: boolean;
}

const DEFAULT_FORMAT: FormatConfOptions = {};

export function formatConfValue(v: ConfValue, opts: FormatConfOptions = DEFAULT_FORMAT): string {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new VirError(`cannot write non-integer config value ${v}`, { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.CONF });
    return String(v);
  }
  if (typeof v === 'string') return formatString(v, opts.tripleQuotes ?? true);
  let list = '[ ';
  for (let i = 0; i < v.length; i++) list += (i ? ', ' : '') + formatConfValue(v[i]!, opts);
  return list + ' ]';
}

// Setting names are a small fixed vocabulary: check each spelling once, not on every write
// (the regex per setting was the largest single cost of writing a config).
const CHECKED_NAMES = new Set<string>();
function checkName(name: string): boolean {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) return false;
  if (CHECKED_NAMES.size < 1024) CHECKED_NAMES.add(name);
  return true;
}

/** Write settings one per line, `name = value`, as libvirt writes xm/xl files. */
export function formatConf(entries: ConfEntry[], opts: FormatConfOptions = DEFAULT_FORMAT): string {
  let s = '';
  for (const e of entries) {
    if (!CHECKED_NAMES.has(e.name) && !checkName(e.name)) throw new VirError(`invalid config setting name '${e.name}'`, { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.CONF });
    s += `${e.name} = ${formatConfValue(e.value, opts)}\n`;
  }
  return s;
}
