// The pure protocol pieces: serializer, frame parser (split/oversized/garbage frames),
// reply decoders and path rules. No daemon needed.
import { describe, expect, it } from 'vitest';
import { FrameParser, readHeader } from '../../lib/xenstore/parser.js';
import {
  cstrings,
  directoryPartPayload,
  formatPermission,
  frame,
  setPermsPayload,
  transactionEndPayload,
  transactionStartPayload,
  watchPayload,
  writePayload,
} from '../../lib/xenstore/serializer.js';
import { decodeDirectoryPart, decodeList, decodePerms, decodeString } from '../../lib/xenstore/decode.js';
import { validatePath, validateWatchPath } from '../../lib/xenstore/paths.js';
import { XenStoreError } from '../../lib/xenstore/errors.js';
import { VirError } from '../../lib/errors.js';
import { XsType } from '../../lib/xenstore/wire.js';

describe('xenstore serializer', () => {
  it('terminates strings with NUL but leaves a WRITE value raw', () => {
    expect(writePayload('/a/b', 'xy')).toEqual(Buffer.from('/a/b\0xy'));
    expect(writePayload('/a', Buffer.from([0, 1, 0]))).toEqual(Buffer.from([0x2f, 0x61, 0, 0, 1, 0]));
    expect(watchPayload('/p', 'tok')).toEqual(Buffer.from('/p\0tok\0'));
    expect(directoryPartPayload('/d', 4090)).toEqual(Buffer.from('/d\x004090\0'));
  });

  it('never sends an empty TRANSACTION_START (oxenstored would wait for more bytes)', () => {
    expect(transactionStartPayload()).toEqual(Buffer.from([0]));
    expect(transactionEndPayload(true)).toEqual(Buffer.from('T\0'));
    expect(transactionEndPayload(false)).toEqual(Buffer.from('F\0'));
  });

  it('spells permissions as the daemon does, owner first', () => {
    expect(formatPermission({ domid: 0, read: false, write: false })).toBe('n0');
    expect(formatPermission({ domid: 3, read: true, write: true })).toBe('b3');
    expect(
      setPermsPayload('/x', [
        { domid: 1, read: true, write: false },
        { domid: 2, read: false, write: true },
      ]),
    ).toEqual(Buffer.from('/x\0r1\0w2\0'));
  });

  it('frames a header in little-endian host order', () => {
    const f = frame({ type: XsType.READ, reqId: 7, txId: 9 }, Buffer.from('/a\0'));
    expect(f.length).toBe(19);
    expect(readHeader(f)).toEqual({ type: 2, reqId: 7, txId: 9, len: 3 });
  });
});

describe('xenstore frame parser', () => {
  const a = frame({ type: XsType.READ, reqId: 1, txId: 0 }, Buffer.from('hello'));
  const b = frame({ type: XsType.WATCH_EVENT, reqId: 0, txId: 0 }, cstrings(['/p', 't']));

  it('returns several frames from one chunk', () => {
    const out = new FrameParser().parse(Buffer.concat([a, b]));
    expect(out.map((f) => [f.type, f.payload.toString()])).toEqual([
      [XsType.READ, 'hello'],
      [XsType.WATCH_EVENT, '/p\0t\0'],
    ]);
  });

  it('reassembles frames split at every possible byte', () => {
    const all = Buffer.concat([a, b]);
    for (let cut = 1; cut < all.length; cut++) {
      const p = new FrameParser();
      const out = [...p.parse(all.subarray(0, cut)), ...p.parse(all.subarray(cut))];
      expect(out.map((f) => f.payload.toString())).toEqual(['hello', '/p\0t\0']);
      expect(p.buffered).toBe(0);
    }
  });

  it('feeds one byte at a time', () => {
    const p = new FrameParser();
    const got = [];
    for (const byte of a) got.push(...p.parse(Buffer.from([byte])));
    expect(got).toHaveLength(1);
    expect(got[0]!.payload.toString()).toBe('hello');
  });

  it('accepts replies larger than 4096 bytes (oxenstored sends them)', () => {
    const big = Buffer.alloc(20_000, 0x61);
    const out = new FrameParser().parse(frame({ type: XsType.DIRECTORY, reqId: 3, txId: 0 }, big));
    expect(out[0]!.payload.length).toBe(20_000);
  });

  it('refuses a garbage length or type instead of waiting for gigabytes', () => {
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(XsType.READ, 0);
    bad.writeUInt32LE(0xffffff00, 12);
    expect(() => new FrameParser().parse(bad)).toThrow(/malformed XenStore frame/);
    const badType = frame({ type: 0x41414141, reqId: 1, txId: 0 });
    expect(() => new FrameParser().parse(badType)).toThrow(XenStoreError);
  });
});

describe('xenstore reply decoders', () => {
  it('decodes strings and lists', () => {
    expect(decodeString(Buffer.from('/local/domain/3\0'))).toBe('/local/domain/3');
    expect(decodeString(Buffer.from('OK'))).toBe('OK');
    expect(decodeList(Buffer.from(''))).toEqual([]);
    expect(decodeList(Buffer.from('\0'))).toEqual([]);
    expect(decodeList(Buffer.from('a\0bb\0'))).toEqual(['a', 'bb']);
  });

  it('decodes permissions and rejects malformed ones', () => {
    expect(decodePerms(Buffer.from('n0\0r5\0b7\0w8\0'))).toEqual([
      { domid: 0, read: false, write: false },
      { domid: 5, read: true, write: false },
      { domid: 7, read: true, write: true },
      { domid: 8, read: false, write: true },
    ]);
    expect(() => decodePerms(Buffer.from('x1\0'))).toThrow(/malformed permission/);
  });

  it('decodes DIRECTORY_PART chunks and sees the final extra NUL', () => {
    const mid = decodeDirectoryPart(Buffer.from('42\0a\0b\0'));
    expect(mid).toEqual({ generation: '42', children: ['a', 'b'], bytes: 4, last: false });
    const last = decodeDirectoryPart(Buffer.from('42\0c\0\0'));
    expect(last).toEqual({ generation: '42', children: ['c'], bytes: 2, last: true });
    expect(decodeDirectoryPart(Buffer.from('42\0\0')).last).toBe(true);
  });
});

describe('xenstore path validation', () => {
  it.each([['/'], ['/local/domain/0'], ['device/vif/0'], ['/a-b_c@d'], ['x']])('accepts %s', (p) => {
    expect(() => validatePath(p)).not.toThrow();
  });

  it.each([
    ['', /empty/],
    ['/a\0b', /NUL/],
    ['/a//b', /empty component/],
    ['/a/', /trailing/],
    ['/a b', /only letters/],
    ['/' + 'a'.repeat(3072), /3072 bytes/],
    ['a'.repeat(2049), /2048 bytes/],
  ])('refuses %j', (p, why) => {
    let err: unknown;
    try {
      validatePath(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(XenStoreError);
    expect(err).toBeInstanceOf(VirError);
    expect((err as XenStoreError).message).toMatch(why);
    expect((err as XenStoreError).syscall).toBe('EINVAL');
    expect((err as XenStoreError).code).toBe('VIR_ERR_INVALID_ARG');
    expect((err as XenStoreError).domain).toBe('VIR_FROM_XENSTORE');
  });

  it('allows the special watch paths only for watches', () => {
    expect(() => validateWatchPath('@introduceDomain')).not.toThrow();
    expect(() => validateWatchPath('@releaseDomain')).not.toThrow();
    expect(() => validatePath('@introduceDomain')).not.toThrow(); // a relative node name is legal too
    expect(() => validateWatchPath('@bogus/')).toThrow(/trailing/);
  });
});
