import { describe, expect, it } from 'vitest';
import { confGet, formatConf, parseConf } from '../../lib/convert/conf.js';
import { VirError } from '../../lib/errors.js';

function syntaxError(text: string, msg: RegExp): void {
  let err: unknown;
  try {
    parseConf(text);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(VirError);
  expect((err as VirError).code).toBe('VIR_ERR_CONF_SYNTAX');
  expect((err as VirError).message).toMatch(msg);
}

describe('virConf reader', () => {
  it('reads numbers, strings, nested lists, comments, continuations and ;', () => {
    const cfg = parseConf(
      [
        '# a comment',
        'name = "guest" # trailing comment',
        "kernel = '/boot/vmlinuz'",
        'memory = 512; vcpus = -2',
        'disk = [ "phy:/dev/a,xvda,w",',
        '         # inside a list',
        '         "file:/b,xvdb,r", ]',
        'vnuma = [ [ "pnode=0" ], [ "pnode=1", "size=1" ] ]',
        'extra = "a \\"quoted\\" \\\\ word\\tx"',
        'raw = """say "hi" \\n"""',
        'long = \\',
        '  42',
        '',
      ].join('\n'),
    );
    expect(cfg.map((e) => e.name)).toEqual(['name', 'kernel', 'memory', 'vcpus', 'disk', 'vnuma', 'extra', 'raw', 'long']);
    expect(confGet(cfg, 'memory')).toBe(512);
    expect(confGet(cfg, 'vcpus')).toBe(-2);
    expect(confGet(cfg, 'disk')).toEqual(['phy:/dev/a,xvda,w', 'file:/b,xvdb,r']);
    expect(confGet(cfg, 'vnuma')).toEqual([['pnode=0'], ['pnode=1', 'size=1']]);
    expect(confGet(cfg, 'extra')).toBe('a "quoted" \\ word\tx');
    expect(confGet(cfg, 'raw')).toBe('say "hi" \\n');
    expect(confGet(cfg, 'long')).toBe(42);
  });

  it('lets a later setting override an earlier one', () => {
    expect(confGet(parseConf('a = 1\na = 2\n'), 'a')).toBe(2);
  });

  it('names the line of every syntax error', () => {
    syntaxError('a = 1\nb = "open\n', /line 2: newline inside a " string/);
    syntaxError('a = 1\n\nb = [ 1, 2\n', /line 4: unterminated list/);
    syntaxError('a 1\n', /line 1: expected '=' after 'a'/);
    syntaxError('a = 1 2\n', /line 1: unexpected '2'/);
    syntaxError('= 3\n', /line 1: expected a setting name/);
    syntaxError('a = [ 1 2 ]\n', /expected ',' or '\]'/);
    syntaxError('a = """never closed\n', /unterminated """ string/);
    syntaxError('a = 99999999999999999999\n', /out of range/);
    syntaxError('a = bare\n', /expected a value/);
    syntaxError(`a = ${'['.repeat(1000)}`, /nested deeper/);
  });
});

describe('virConf writer', () => {
  it('writes libvirt layout and escapes what could end a string', () => {
    const out = formatConf([
      { name: 'name', value: 'x' },
      { name: 'memory', value: 512 },
      { name: 'disk', value: ['a', 'b'] },
      { name: 'path', value: `it's "q"` },
      { name: 'bs', value: 'a\\:b"' },
      { name: 'nl', value: 'a\nvcpus = 99' },
    ]);
    expect(out).toBe(
      [
        'name = "x"',
        'memory = 512',
        'disk = [ "a", "b" ]',
        // ends in '"', so it cannot go between triple quotes: escaped instead
        'path = "it\'s \\"q\\""',
        'bs = "a\\\\:b\\""',
        'nl = "a\\nvcpus = 99"',
        '',
      ].join('\n'),
    );
    expect(formatConf([{ name: 'p', value: 'a"b' }])).toBe('p = """a"b"""\n');
    // whatever was written reads back as the same values: nothing can inject a setting
    const back = parseConf(out);
    expect(back.map((e) => e.name)).toEqual(['name', 'memory', 'disk', 'path', 'bs', 'nl']);
    expect(confGet(back, 'path')).toBe(`it's "q"`);
    expect(confGet(back, 'bs')).toBe('a\\:b"');
    expect(confGet(back, 'nl')).toBe('a\nvcpus = 99');
  });
});
