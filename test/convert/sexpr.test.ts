import { describe, expect, it } from 'vitest';
import { formatSexpr, parseSexpr, quoteAtom, sexprChildren, sexprGet, sexprInt, sexprLookup } from '../../lib/convert/sexpr.js';
import { VirError } from '../../lib/errors.js';

function fails(fn: () => unknown, msg: RegExp, code = 'VIR_ERR_INTERNAL_ERROR'): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(VirError);
  expect((err as VirError).code).toBe(code);
  expect((err as VirError).message).toMatch(msg);
}

describe('S-expression reader', () => {
  it('reads lists, bare atoms and both quote styles with escapes', () => {
    const e = parseSexpr(`(domain (name 'a\\'b')(args "x \\"y\\" (z)")(n 12)(empty '')(l (a b)))`);
    expect(e).toEqual(['domain', ['name', "a'b"], ['args', 'x "y" (z)'], ['n', '12'], ['empty', ''], ['l', ['a', 'b']]]);
  });

  it('looks values up by path', () => {
    const e = parseSexpr(`(domain (image (hvm (kernel '/k')(acpi 1)))(device (vbd (dev hda)))(device (vif (mac m))))`);
    expect(sexprGet(e, 'image/hvm/kernel')).toBe('/k');
    expect(sexprInt(e, 'image/hvm/acpi')).toBe(1);
    expect(sexprLookup(e, 'image/linux')).toBeUndefined();
    expect(sexprChildren(e, 'device').map((d) => (d[1] as string[])[0])).toEqual(['vbd', 'vif']);
  });

  it('rejects a non-numeric number field naming the field', () => {
    fails(() => sexprInt(parseSexpr('(d (memory lots))'), 'memory'), /'memory' is not a number/);
  });

  it('reports unbalanced parentheses and bad quoting with line and column', () => {
    fails(() => parseSexpr('(a (b c)'), /line 1, column 9: 1 unclosed/);
    fails(() => parseSexpr('(a b))'), /unexpected data|unbalanced/);
    fails(() => parseSexpr(')'), /unbalanced '\)'/);
    fails(() => parseSexpr("(a\n 'b)"), /line 2, column 2: unterminated quoted string/);
    fails(() => parseSexpr('   '), /empty input/);
  });

  it('bounds nesting depth instead of exhausting the stack', () => {
    fails(() => parseSexpr('('.repeat(100_000) + ')'.repeat(100_000)), /nested deeper/);
  });

  it('tolerates what xend output tolerates only when asked', () => {
    expect(parseSexpr('(a (b c)', { lenient: true })).toEqual(['a', ['b', 'c']]);
    expect(parseSexpr('(a b)) trailing', { lenient: true })).toEqual(['a', 'b']);
    fails(() => parseSexpr("(a 'b", { lenient: true }), /unterminated/);
  });
});

describe('S-expression writer', () => {
  it('quotes only what needs it and escapes quotes and backslashes', () => {
    expect(formatSexpr(['vm', ['name', 'x'], ['args', "it's (not) a \\ field"], ['e', '']])).toBe(
      "(vm (name x) (args 'it\\'s (not) a \\\\ field') (e ''))",
    );
    expect(quoteAtom("a')(evil 1")).toBe("'a\\')(evil 1'");
  });

  it('round-trips arbitrary atoms through quoting', () => {
    const nasty = ["'", '\\', '")(', ' spaced ', '(name evil)', '\n'];
    for (const s of nasty) expect(parseSexpr(`(x ${quoteAtom(s)})`)).toEqual(['x', s]);
  });
});
