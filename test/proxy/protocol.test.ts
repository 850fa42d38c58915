/** The proxy's frame serializer/parser and message checks, including malformed input. */
import { describe, expect, it } from 'vitest';
import { FrameParser, FrameType, HEADER_SIZE, PROTOCOL_VERSION, encodeFrame } from '../../lib/proxy/protocol.js';
import { decodeCall, decodeError, errorPayload, argFlags, argUUID, argId } from '../../lib/proxy/messages.js';
import { VirError, isVirError } from '../../lib/errors.js';

function catchErr(fn: () => unknown): VirError {
  try {
    fn();
  } catch (e) {
    expect(isVirError(e)).toBe(true);
    return e as VirError;
  }
  throw new Error('expected a VirError');
}

describe('proxy frames', () => {
  it('encodes the documented header and round-trips through the parser', () => {
    const f = encodeFrame(FrameType.CALL, 7, { method: 'getVersion', args: [] });
    expect(f.subarray(0, 4).toString('latin1')).toBe('XVPX');
    expect(f[4]).toBe(PROTOCOL_VERSION);
    expect(f[5]).toBe(FrameType.CALL);
    expect(f.readUInt16BE(6)).toBe(0);
    expect(f.readUInt32BE(8)).toBe(7);
    expect(f.readUInt32BE(12)).toBe(f.length - HEADER_SIZE);
    expect(new FrameParser(1024).push(f)).toEqual([{ type: FrameType.CALL, serial: 7, payload: { method: 'getVersion', args: [] } }]);
  });

  it('reassembles frames split at every byte position, and several frames in one chunk', () => {
    const a = encodeFrame(FrameType.REPLY, 1, { result: 'ä€😀' });
    const b = encodeFrame(FrameType.ERROR, 2, { code: 'VIR_ERR_NO_DOMAIN', domain: 'VIR_FROM_PROXY', message: 'x' });
    const both = Buffer.concat([a, b]);
    for (let cut = 0; cut <= both.length; cut++) {
      const p = new FrameParser(1024);
      const out = [...p.push(both.subarray(0, cut)), ...p.push(both.subarray(cut))];
      expect(out.map((f) => f.serial)).toEqual([1, 2]);
      expect(out[0]!.payload).toEqual({ result: 'ä€😀' });
      expect(p.bufferedBytes).toBe(0);
    }
    const p = new FrameParser(1024);
    const byByte = [...both].flatMap((x) => p.push(Buffer.from([x])));
    expect(byByte).toHaveLength(2);
  });

  const header = (over: Partial<{ magic: number; version: number; type: number; reserved: number; length: number }>) => {
    const h = Buffer.alloc(HEADER_SIZE);
    h.writeUInt32BE(over.magic ?? 0x58565058, 0);
    h.writeUInt8(over.version ?? 1, 4);
    h.writeUInt8(over.type ?? 1, 5);
    h.writeUInt16BE(over.reserved ?? 0, 6);
    h.writeUInt32BE(1, 8);
    h.writeUInt32BE(over.length ?? 0, 12);
    return h;
  };

  it.each([
    ['bad magic', header({ magic: 0x47455420 }), /bad magic 0x47455420/],
    ['another protocol version', header({ version: 2 }), /unsupported protocol version 2 \(this side speaks 1\)/],
    ['an unknown frame type', header({ type: 9 }), /unknown frame type 9/],
    ['non-zero reserved bytes', header({ reserved: 1 }), /reserved header bytes/],
    ['a length over the limit (refused from the header alone)', header({ length: 1025 }), /1025 bytes exceeds the 1024-byte limit/],
    ['a payload that is not JSON', Buffer.concat([header({ length: 3 }), Buffer.from('{x]')]), /not UTF-8 JSON/],
    ['a JSON payload that is not an object', Buffer.concat([header({ length: 2 }), Buffer.from('[]')]), /not a JSON object/],
    ['invalid UTF-8', Buffer.concat([header({ length: 3 }), Buffer.from([0x22, 0xff, 0x22])]), /not UTF-8 JSON/],
  ])('refuses %s with VIR_ERR_RPC, and stays failed', (_name, bytes, msg) => {
    const p = new FrameParser(1024);
    const e = catchErr(() => p.push(bytes));
    expect(e.code).toBe('VIR_ERR_RPC');
    expect(e.domain).toBe('VIR_FROM_PROXY');
    expect(e.message).toMatch(msg);
    // The stream is out of step: even a good frame is not accepted after that.
    expect(catchErr(() => p.push(encodeFrame(FrameType.CALL, 2, {}))).message).toBe(e.message);
  });

  it('refuses to encode a payload over the limit or a bad serial', () => {
    expect(catchErr(() => encodeFrame(FrameType.CALL, 1, { s: 'x'.repeat(100) }, 50)).message).toMatch(/exceeds the 50-byte limit/);
    expect(catchErr(() => encodeFrame(FrameType.CALL, -1, {})).code).toBe('VIR_ERR_RPC');
    expect(catchErr(() => encodeFrame(FrameType.CALL, 2 ** 32, {})).code).toBe('VIR_ERR_RPC');
  });
});

describe('proxy messages', () => {
  it('accepts a well-formed call and rejects malformed ones as protocol errors', () => {
    expect(decodeCall({ method: 'lookupDomainByName', args: ['x'] })).toEqual({ method: 'lookupDomainByName', args: ['x'] });
    expect(decodeCall({ method: '$hello' })).toEqual({ method: '$hello', args: [] });
    for (const bad of [{}, { method: 42 }, { method: '' }, { method: 'a'.repeat(65) }, { method: 'x;rm' }, { method: 'x', args: 'no' }, { method: 'x', args: [1, 2, 3, 4, 5] }]) {
      expect(catchErr(() => decodeCall(bad as Record<string, unknown>)).code).toBe('VIR_ERR_RPC');
    }
  });

  it('round-trips VirErrors and sanitises what a peer sends as an error', () => {
    const e = decodeError(errorPayload(new VirError('no such domain', { code: 'VIR_ERR_NO_DOMAIN', domain: 'VIR_FROM_XEN' })));
    expect([e.code, e.domain, e.message]).toEqual(['VIR_ERR_NO_DOMAIN', 'VIR_FROM_XEN', 'no such domain']);
    const odd = decodeError({ code: '<script>', domain: 5, message: 'm'.repeat(10000) });
    expect([odd.code, odd.domain, odd.message.length]).toEqual(['VIR_ERR_INTERNAL_ERROR', 'VIR_FROM_PROXY', 4096]);
  });

  it('checks served-call arguments strictly', () => {
    expect(argFlags('m', { active: true }, ['active'])).toEqual({ active: true });
    expect(catchErr(() => argFlags('m', { evil: true }, ['active'])).code).toBe('VIR_ERR_INVALID_ARG');
    expect(catchErr(() => argFlags('m', { active: 'yes' }, ['active'])).code).toBe('VIR_ERR_INVALID_ARG');
    expect(argUUID('m', '6695eb01-f6a4-8304-79aa-97f2502e193f')).toBe('6695eb01-f6a4-8304-79aa-97f2502e193f');
    expect(catchErr(() => argUUID('m', '../../etc')).code).toBe('VIR_ERR_INVALID_ARG');
    expect(catchErr(() => argId('m', 1.5)).code).toBe('VIR_ERR_INVALID_ARG');
    expect(catchErr(() => argId('m', -1)).code).toBe('VIR_ERR_INVALID_ARG');
  });
});
