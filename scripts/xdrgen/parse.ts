/**
 * Parser for the subset of rpcgen's XDR language libvirt's protocol files use:
 * const, enum, struct, union (switch on int/enum, constant case labels, default), typedef,
 * declarations plain / optional `*` / fixed `[n]` / bounded `<n>` / unbounded `<>`,
 * opaque and string, the integer, hyper, float, double and bool base types.
 * `%` pass-through lines and comments are dropped; anything else is a parse error with its line.
 */

export type BaseType = 'int' | 'uint' | 'hyper' | 'uhyper' | 'float' | 'double' | 'bool';
export type TypeSpec = { kind: 'base'; base: BaseType } | { kind: 'ref'; name: string } | { kind: 'opaque' } | { kind: 'string' };

/** A size is kept symbolic (so generated code says REMOTE_STRING_MAX) and resolved by the emitter. */
export type Size = { value: string } | 'unbounded';

export interface Decl {
  name: string;
  type: TypeSpec;
  shape: 'plain' | 'optional' | 'fixed' | 'var';
  size?: Size;
}

export interface UnionArm {
  cases: string[]; // constant names or numbers; empty = default
  decl: Decl | null; // null = void
}

export type Definition =
  | { kind: 'const'; name: string; value: string }
  | { kind: 'enum'; name: string; members: { name: string; value: string }[] }
  | { kind: 'struct'; name: string; fields: Decl[] }
  | { kind: 'union'; name: string; discriminant: Decl; arms: UnionArm[] }
  | { kind: 'typedef'; decl: Decl };

interface Token {
  text: string;
  line: number;
}

function tokenize(source: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '%' && (i === 0 || source[i - 1] === '\n')) {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`${file}:${line}: unterminated comment`);
      for (let j = i; j < end; j++) if (source[j] === '\n') line++;
      i = end + 2;
    } else if (source.startsWith('//', i)) {
      while (i < source.length && source[i] !== '\n') i++;
    } else {
      const m = /^(?:[A-Za-z_][A-Za-z0-9_]*|-?0[xX][0-9a-fA-F]+|-?[0-9]+|[{}()[\]<>;,=*:])/.exec(source.slice(i, i + 200));
      if (!m) throw new Error(`${file}:${line}: unexpected character '${c}'`);
      tokens.push({ text: m[0], line });
      i += m[0].length;
    }
  }
  return tokens;
}

export function parseXdr(source: string, file: string): Definition[] {
  const tokens = tokenize(source, file);
  let p = 0;
  const peek = (k = 0): string | undefined => tokens[p + k]?.text;
  const fail = (msg: string): never => {
    throw new Error(`${file}:${tokens[Math.min(p, tokens.length - 1)]?.line ?? 0}: ${msg} (at '${peek() ?? 'EOF'}')`);
  };
  const next = (): string => {
    const t = tokens[p++];
    if (!t) fail('unexpected end of file');
    return t!.text;
  };
  const expect = (text: string): void => {
    if (next() !== text) {
      p--;
      fail(`expected '${text}'`);
    }
  };
  const ident = (): string => {
    const t = next();
    if (!/^[A-Za-z_]\w*$/.test(t)) {
      p--;
      fail('expected an identifier');
    }
    return t;
  };
  const value = (): string => {
    const t = next();
    if (!/^(?:[A-Za-z_]\w*|-?0[xX][0-9a-fA-F]+|-?[0-9]+)$/.test(t)) {
      p--;
      fail('expected a constant');
    }
    return t;
  };

  function typeSpec(): TypeSpec {
    const t = next();
    switch (t) {
      case 'unsigned': {
        const n = peek();
        if (n === 'int' || n === 'long' || n === 'char' || n === 'short') {
          p++;
          return { kind: 'base', base: 'uint' };
        }
        if (n === 'hyper') {
          p++;
          return { kind: 'base', base: 'uhyper' };
        }
        return { kind: 'base', base: 'uint' };
      }
      case 'int':
      case 'long':
      case 'char':
      case 'short':
        return { kind: 'base', base: 'int' };
      case 'hyper':
        return { kind: 'base', base: 'hyper' };
      case 'float':
        return { kind: 'base', base: 'float' };
      case 'double':
        return { kind: 'base', base: 'double' };
      case 'bool':
        return { kind: 'base', base: 'bool' };
      case 'opaque':
        return { kind: 'opaque' };
      case 'string':
        return { kind: 'string' };
      case 'struct':
      case 'enum':
      case 'union':
        return { kind: 'ref', name: ident() };
      default:
        p--;
        return { kind: 'ref', name: ident() };
    }
  }

  /** A declaration, or null for `void`. */
  function declaration(): Decl | null {
    if (peek() === 'void') {
      p++;
      return null;
    }
    const type = typeSpec();
    if (peek() === '*') {
      p++;
      return { name: ident(), type, shape: 'optional' };
    }
    const name = ident();
    if (peek() === '[') {
      p++;
      const size = value();
      expect(']');
      return { name, type, shape: 'fixed', size: { value: size } };
    }
    if (peek() === '<') {
      p++;
      let size: Size = 'unbounded';
      if (peek() !== '>') size = { value: value() };
      expect('>');
      return { name, type, shape: 'var', size };
    }
    if (type.kind === 'opaque' || type.kind === 'string') fail(`${type.kind} '${name}' needs a size`);
    return { name, type, shape: 'plain' };
  }

  const defs: Definition[] = [];
  while (p < tokens.length) {
    const kw = next();
    if (kw === 'const') {
      const name = ident();
      expect('=');
      defs.push({ kind: 'const', name, value: value() });
      expect(';');
    } else if (kw === 'enum') {
      const name = ident();
      expect('{');
      const members: { name: string; value: string }[] = [];
      while (peek() !== '}') {
        const m = ident();
        expect('=');
        members.push({ name: m, value: value() });
        if (peek() === ',') p++;
      }
      expect('}');
      expect(';');
      defs.push({ kind: 'enum', name, members });
    } else if (kw === 'struct') {
      const name = ident();
      expect('{');
      const fields: Decl[] = [];
      while (peek() !== '}') {
        const d = declaration();
        expect(';');
        if (d) fields.push(d);
      }
      expect('}');
      expect(';');
      defs.push({ kind: 'struct', name, fields });
    } else if (kw === 'union') {
      const name = ident();
      expect('switch');
      expect('(');
      const discriminant = declaration();
      if (!discriminant) fail('union discriminant cannot be void');
      expect(')');
      expect('{');
      const arms: UnionArm[] = [];
      while (peek() !== '}') {
        const cases: string[] = [];
        let isDefault = false;
        while (peek() === 'case' || peek() === 'default') {
          if (next() === 'case') cases.push(value());
          else isDefault = true;
          expect(':');
        }
        if (!cases.length && !isDefault) fail("expected 'case' or 'default'");
        const decl = declaration();
        expect(';');
        if (isDefault) arms.push({ cases: [], decl });
        if (cases.length) arms.push({ cases, decl });
      }
      expect('}');
      expect(';');
      defs.push({ kind: 'union', name, discriminant: discriminant!, arms });
    } else if (kw === 'typedef') {
      const decl = declaration();
      if (!decl) fail('typedef of void');
      expect(';');
      defs.push({ kind: 'typedef', decl: decl! });
    } else if (kw === 'program') {
      fail('program definitions are not part of the supported subset');
    } else {
      p--;
      fail('expected const, enum, struct, union or typedef');
    }
  }
  return defs;
}
