import { describe, expect, it } from 'vitest';
import { XdrReader, XdrWriter } from '../../lib/remote/xdr.js';
import { VirError } from '../../lib/errors.js';

const hex = (b: Buffer) => b.toString('hex');
const writeWith = (f: (w: XdrWriter) => void) => {
  const w = new XdrWriter(4); // tiny, so growth is exercised
  f(w);
  return Buffer.from(w.bytes());
};

describe('XDR writer', () => {
  it('encodes the base types big-endian in 4-byte units (RFC 4506)', () => {
    expect(hex(writeWith((w) => w.int(-2)))).toBe('fffffffe');
    expect(hex(writeWith((w) => w.uint(0xdeadbeef)))).toBe('deadbeef');
    expect(hex(writeWith((w) => w.hyper(-1n)))).toBe('ffffffffffffffff');
    expect(hex(writeWith((w) => w.uhyper(2n ** 64n - 2n)))).toBe('fffffffffffffffe');
    expect(hex(writeWith((w) => w.bool(true)))).toBe('00000001');
    expect(hex(writeWith((w) => w.double(1)))).toBe('3ff0000000000000');
  });
  it('pads strings and opaque data to 4 bytes with zeros', () => {
    expect(hex(writeWith((w) => w.string('abc', 10)))).toBe('0000000361626300');
    expect(hex(writeWith((w) => w.string('abcd', 10)))).toBe('0000000461626364');
    expect(hex(writeWith((w) => w.varOpaque(Buffer.from([1]), 10)))).toBe('0000000101000000');
    expect(hex(writeWith((w) => w.fixedOpaque(Buffer.from([1, 2, 3, 4, 5]), 5)))).toBe('0102030405000000');
    expect(hex(writeWith((w) => w.string('é', 10)))).toBe('00000002c3a90000');
  });
  it('encodes optional data and arrays with their counts', () => {
    expect(hex(writeWith((w) => w.optional<number>(null, (x, v) => x.int(v))))).toBe('00000000');
    expect(hex(writeWith((w) => w.optional(7, (x, v) => x.int(v))))).toBe('0000000100000007');
    expect(hex(writeWith((w) => w.varArray([1, 2], 5, (x, v) => x.int(v))))).toBe('000000020000000100000002');
    expect(hex(writeWith((w) => w.fixedArray([1, 2], 2, (x, v) => x.int(v))))).toBe('0000000100000002');
  });
  it('refuses values that do not fit, with a VirError', () => {
    const bad: ((w: XdrWriter) => void)[] = [
      (w) => w.int(2 ** 31),
      (w) => w.int(1.5),
      (w) => w.uint(-1),
      (w) => w.hyper(2n ** 63n),
      (w) => w.uhyper(-1n),
      (w) => w.string('toolong', 3),
      (w) => w.varOpaque(Buffer.alloc(5), 4),
      (w) => w.fixedOpaque(Buffer.alloc(3), 4),
      (w) => w.varArray([1, 2, 3], 2, (x, v) => x.int(v)),
      (w) => w.fixedArray([1], 2, (x, v) => x.int(v)),
    ];
    for (const f of bad) {
      expect(() => writeWith(f)).toThrow(VirError);
      try {
        writeWith(f);
      } catch (e) {
        expect((e as VirError).code).toBe('VIR_ERR_RPC');
      }
    }
  });
});

describe('XDR reader', () => {
  it('reads back what the writer wrote', () => {
    const buf = writeWith((w) => {
      w.int(-5);
      w.uint(4_000_000_000);
      w.hyper(-(2n ** 40n));
      w.uhyper(2n ** 63n);
      w.string('héllo', 100);
      w.varOpaque(Buffer.from('xyz'), 10);
      w.optional('s', (x, v) => x.string(v, 5));
      w.varArray(['a', 'bb'], 3, (x, v) => x.string(v, 5));
      w.bool(false);
      w.float(0.5);
    });
    const r = new XdrReader(buf);
    expect(r.int()).toBe(-5);
    expect(r.uint()).toBe(4_000_000_000);
    expect(r.hyper()).toBe(-(2n ** 40n));
    expect(r.uhyper()).toBe(2n ** 63n);
    expect(r.string(100)).toBe('héllo');
    expect(r.varOpaque(10).toString()).toBe('xyz');
    expect(r.optional((x) => x.string(5))).toBe('s');
    expect(r.varArray(3, (x) => x.string(5))).toEqual(['a', 'bb']);
    expect(r.bool()).toBe(false);
    expect(r.float()).toBe(0.5);
    expect(r.remaining).toBe(0);
  });
  it('rejects truncated data, over-long counts and bad bools with VIR_ERR_RPC', () => {
    const cases: [string, (r: XdrReader) => unknown][] = [
      ['000000', (r) => r.int()],
      ['00000001', (r) => r.hyper()],
      ['0000000561626364', (r) => r.string(10)], // says 5 bytes, has 4
      ['0000000b', (r) => r.string(10)], // 11 > max 10
      ['ffffffff', (r) => r.varArray(0xffffffff, (x) => x.int())], // 4 G elements: refused before allocating
      ['00000002', (r) => r.bool()],
      ['00000003010203', (r) => r.varOpaque(5)], // padding missing
    ];
    for (const [bytes, read] of cases) {
      let err: unknown;
      try {
        read(new XdrReader(Buffer.from(bytes, 'hex')));
      } catch (e) {
        err = e;
      }
      expect(err, bytes).toBeInstanceOf(VirError);
      expect((err as VirError).code).toBe('VIR_ERR_RPC');
    }
  });
  it('copies opaque data out of the frame', () => {
    const buf = Buffer.from('0000000201020000', 'hex');
    const got = new XdrReader(buf).varOpaque(4);
    buf[4] = 9;
    expect([...got]).toEqual([1, 2]);
  });
});
