/**
 * The generated codecs and procedure tables (lib/remote/protocol, from libvirt 9.0.0's .x
 * files). Expected bytes are written out by hand from the XDR rules and libvirt's documented
 * numbering, so a generator bug shows up here, not as a table checked against itself.
 */
import { describe, expect, it } from 'vitest';
import { XdrReader, XdrWriter } from '../../lib/remote/xdr.js';
import * as remote from '../../lib/remote/protocol/remote.js';
import * as qemu from '../../lib/remote/protocol/qemu.js';
import * as keepalive from '../../lib/remote/protocol/keepalive.js';
import * as virnet from '../../lib/remote/protocol/virnet.js';
import { parseXdr } from '../../scripts/xdrgen/parse.js';
import { VirError } from '../../lib/errors.js';

const encode = <T>(write: (w: XdrWriter, v: T) => void, v: T) => {
  const w = new XdrWriter();
  write(w, v);
  return Buffer.from(w.bytes()).toString('hex');
};

describe('generated protocol', () => {
  it('numbers the programs and procedures as libvirt 9.0.0 does', () => {
    expect(remote.REMOTE_PROGRAM).toBe(0x20008086);
    expect(qemu.QEMU_PROGRAM).toBe(0x20008087);
    expect(keepalive.KEEPALIVE_PROGRAM).toBe(0x6b656570);
    expect(remote.REMOTE_PROC_CONNECT_OPEN).toBe(1);
    expect(remote.REMOTE_PROC_DOMAIN_GET_INFO).toBe(16);
    expect(remote.REMOTE_PROC_DOMAIN_FD_ASSOCIATE).toBe(443);
    expect(Object.keys(remote.remote_procedure_table)).toHaveLength(443);
    expect(keepalive.keepalive_procedure_table[keepalive.KEEPALIVE_PROC_PING]!.name).toBe('KEEPALIVE_PROC_PING');
    expect(virnet.VIR_NET_MESSAGE_MAX).toBe(32 * 1024 * 1024);
  });

  it('pairs each procedure with its _args/_ret/_msg structs by libvirt naming', () => {
    const info = remote.remote_procedure_table[remote.REMOTE_PROC_DOMAIN_GET_INFO]!;
    expect(info.args?.read).toBe(remote.read_remote_domain_get_info_args);
    expect(info.ret?.read).toBe(remote.read_remote_domain_get_info_ret);
    const ev = remote.remote_procedure_table[remote.REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE]!;
    expect(ev.msg?.read).toBe(remote.read_remote_domain_event_callback_lifecycle_msg);
    expect(ev.args).toBeUndefined();
    expect(remote.remote_procedure_table[remote.REMOTE_PROC_CONNECT_CLOSE]!.args).toBeUndefined();
    expect(qemu.qemu_procedure_table[qemu.QEMU_PROC_DOMAIN_MONITOR_COMMAND]!.ret?.read).toBe(qemu.read_qemu_domain_monitor_command_ret);
  });

  it('encodes a domain reference: name string, 16 raw UUID bytes, id', () => {
    const uuid = Buffer.from('6695eb01f6a44304b5e8a1f0ef5a1d3c', 'hex');
    expect(encode(remote.write_remote_nonnull_domain, { name: 'test', uuid, id: 1 })).toBe('00000004' + '74657374' + uuid.toString('hex') + '00000001');
    expect(() => encode(remote.write_remote_nonnull_domain, { name: 'x', uuid: Buffer.alloc(15), id: 1 })).toThrow(VirError);
  });

  it('encodes rpcgen char arrays one 4-byte unit per char (remote_node_get_info_ret.model)', () => {
    const model = Array.from({ length: 32 }, (_, i) => (i < 6 ? 'x86_64'.charCodeAt(i) : 0));
    const hex = encode(remote.write_remote_node_get_info_ret, { model, memory: 1n, cpus: 2, mhz: 3, nodes: 4, sockets: 5, cores: 6, threads: 7 });
    expect(hex.length / 2).toBe(32 * 4 + 8 + 6 * 4);
    expect(hex.slice(0, 16)).toBe('0000007800000038');
  });

  it('round-trips typed parameters through the union, nested in an array', () => {
    const params: remote.remote_typed_param[] = [
      { field: 'a', value: { type: 1, i: -3 } },
      { field: 'b', value: { type: 4, ul: 2n ** 64n - 1n } },
      { field: 'c', value: { type: 5, d: 2.5 } },
      { field: 'd', value: { type: 7, s: 'str' } },
    ];
    const w = new XdrWriter();
    remote.write_remote_domain_set_scheduler_parameters_args(w, { dom: { name: 'd', uuid: Buffer.alloc(16), id: -1 }, params });
    const back = remote.read_remote_domain_set_scheduler_parameters_args(new XdrReader(Buffer.from(w.bytes())));
    expect(back.params).toEqual(params);
    // the discriminant comes first: field 'a' = 00000001 61000000, then type 1, then -3
    expect(Buffer.from(w.bytes()).toString('hex')).toContain('0000000161000000' + '00000001' + 'fffffffd');
  });

  it('refuses a typed parameter with an unknown type tag', () => {
    const bytes = Buffer.from('00000001' + '61000000' + '00000009' + '00000000', 'hex');
    expect(() => remote.read_remote_typed_param(new XdrReader(bytes))).toThrow(/no arm for type 9/);
  });

  it('decodes optional pointers (remote_string) as null or the value', () => {
    expect(remote.read_remote_string(new XdrReader(Buffer.from('00000000', 'hex')))).toBeNull();
    expect(remote.read_remote_string(new XdrReader(Buffer.from('000000010000000178000000', 'hex')))).toBe('x');
  });
});

describe('xdrgen parser', () => {
  it('understands the rpcgen subset and reports errors with the line', () => {
    const defs = parseXdr(
      `%#include <x.h>\n/* c */ const A = 0x10;\nenum e { X = 1, Y = A };\nstruct s { unsigned hyper h; string n<A>; opaque o[4]; int *p; s2 arr<>; };\n` +
        `union u switch (int t) { case X: case Y: int i; default: void; };\ntypedef s *sp;`,
      't.x',
    );
    expect(defs.map((d) => d.kind)).toEqual(['const', 'enum', 'struct', 'union', 'typedef']);
    const s = defs[2] as Extract<(typeof defs)[number], { kind: 'struct' }>;
    expect(s.fields.map((f) => [f.name, f.shape])).toEqual([['h', 'plain'], ['n', 'var'], ['o', 'fixed'], ['p', 'optional'], ['arr', 'var']]);
    const u = defs[3] as Extract<(typeof defs)[number], { kind: 'union' }>;
    expect(u.arms).toEqual([{ cases: ['X', 'Y'], decl: expect.objectContaining({ name: 'i' }) }, { cases: [], decl: null }]);
    expect(() => parseXdr('struct s {\n int a\n};', 'bad.x')).toThrow(/bad.x:3/);
    expect(() => parseXdr('program P { };', 'p.x')).toThrow(/not part of the supported subset/);
  });
});
