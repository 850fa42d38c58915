import { describe, expect, it } from 'vitest';
import { FrameDecoder, FRAME_MAX, decodePacket, encodePacket, encodeRawPacket } from '../../lib/remote/packet.js';
import { VirError } from '../../lib/errors.js';

const header = { prog: 0x20008086, vers: 1, proc: 16, type: 0, serial: 7, status: 0 };

describe('packet codec', () => {
  it('lays out the length word and the 24-byte header as libvirt does', () => {
    const frame = encodePacket(header, (w) => w.int(42));
    expect(frame.toString('hex')).toBe(
      '00000020' + '20008086' + '00000001' + '00000010' + '00000000' + '00000007' + '00000000' + '0000002a',
    );
    const p = decodePacket(frame);
    expect({ ...p, body: p.body.toString('hex') }).toEqual({ ...header, body: '0000002a' });
    expect(encodeRawPacket(header, Buffer.from('0000002a', 'hex'))).toEqual(frame);
  });

  it('reassembles frames split at every byte and several frames in one chunk', () => {
    const frames = [1, 2, 3].map((serial) => encodePacket({ ...header, serial }, (w) => w.string('x'.repeat(serial * 5), 100)));
    const all = Buffer.concat(frames);
    for (let cut = 1; cut < all.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(got.map((p) => p.serial)).toEqual([1, 2, 3]);
      expect(d.pending).toBe(0);
    }
    const d = new FrameDecoder();
    const got = [];
    for (const byte of all) got.push(...d.push(Buffer.from([byte])));
    expect(got.map((p) => p.body.subarray(4).toString())).toEqual(['xxxxx\0\0\0', 'x'.repeat(10) + '\0\0', 'x'.repeat(15) + '\0']);
  });

  it('keeps a partial frame pending', () => {
    const d = new FrameDecoder();
    expect(d.push(encodePacket(header).subarray(0, 10))).toEqual([]);
    expect(d.pending).toBe(10);
  });

  it('refuses lengths above the 32 MiB cap or below a header, before buffering', () => {
    const big = Buffer.alloc(4);
    big.writeUInt32BE(FRAME_MAX + 1);
    expect(() => new FrameDecoder().push(big)).toThrow(/exceeds libvirt's maximum/);
    expect(() => new FrameDecoder().push(Buffer.from('0000000c', 'hex'))).toThrow(VirError);
    expect(() => new FrameDecoder().push(Buffer.from('ffff', 'hex'))).not.toThrow(); // not yet a length
    const atCap = Buffer.alloc(4);
    atCap.writeUInt32BE(FRAME_MAX);
    expect(new FrameDecoder().push(atCap)).toEqual([]); // exactly the cap is allowed
  });

  it('refuses to encode a frame above the cap', () => {
    expect(() => encodeRawPacket(header, Buffer.alloc(FRAME_MAX))).toThrow(VirError);
  });
});
