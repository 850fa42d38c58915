/**
 * libvirt remote URIs: transport choice, host/user/port, client-only parameters, the name the
 * daemon is asked to open, and the unix socket libvirt would pick. Expected values are written
 * out by hand from libvirt's URI documentation, never derived from the parser.
 */
import { describe, expect, it } from 'vitest';
import { VirError } from '../../lib/errors.js';
import { chooseUnixSocket, parseRemoteURI, userRuntimeDir, wantsSessionDaemon } from '../../lib/remote/uri.js';

describe('parseRemoteURI', () => {
  it.each([
    ['test:///default', { driver: 'test', transport: 'unix', path: '/default', remoteName: 'test:///default' }],
    ['qemu:///system', { driver: 'qemu', transport: 'unix', path: '/system', remoteName: 'qemu:///system' }],
    ['qemu:///session', { driver: 'qemu', transport: 'unix', path: '/session', remoteName: 'qemu:///session' }],
    ['test+unix:///default?socket=/tmp/x/libvirt-sock', { transport: 'unix', remoteName: 'test:///default' }],
    ['qemu://host.example/system', { transport: 'tls', host: 'host.example', remoteName: 'qemu:///system' }],
    ['qemu+tcp://10.0.0.1:16509/system', { transport: 'tcp', host: '10.0.0.1', port: 16509, remoteName: 'qemu:///system' }],
    ['qemu+tls://h/system?no_verify=1&pkipath=/etc/pki', { transport: 'tls', remoteName: 'qemu:///system' }],
    ['qemu+ssh://root@h:2222/system', { transport: 'ssh', user: 'root', host: 'h', port: 2222, remoteName: 'qemu:///system' }],
    ['qemu+libssh2://u@h/system', { transport: 'ssh', transportSpelling: 'libssh2', user: 'u', remoteName: 'qemu:///system' }],
    ['qemu+ext:///system?command=/bin/proxy', { transport: 'ext', remoteName: 'qemu:///system' }],
    // IPv6 literal without brackets; percent-encoded user name.
    ['qemu+ssh://ro%40ot@[::1]:22/system', { host: '::1', user: 'ro@ot', port: 22 }],
    // Upper case scheme and transport are accepted (libvirt lowers the transport).
    ['QEMU+SSH://h/system', { scheme: 'qemu+ssh', driver: 'qemu', transport: 'ssh' }],
    // Daemon-side parameters pass through; client-only ones (any case) are stripped.
    ['xen+ssh://h/?KeyFile=/k&foo=bar&no_tty=1&socket=/s', { path: '/', remoteName: 'xen:///?foo=bar' }],
    ['test:///default#frag', { remoteName: 'test:///default#frag' }],
    // ?name= overrides what the daemon opens; remote:// lets the daemon choose.
    ['qemu+ssh://h/system?name=qemu:///session', { remoteName: 'qemu:///session' }],
    ['remote://h/', { driver: 'remote', transport: 'tls', remoteName: '' }],
    ['remote+unix:///', { driver: 'remote', transport: 'unix', remoteName: '' }],
    ['xen://', { driver: 'xen', path: '', remoteName: 'xen://' }],
  ])('%s', (uri, expected) => {
    expect(parseRemoteURI(uri)).toMatchObject(expected);
  });

  it('keeps the client-only parameters for the transports', () => {
    const t = parseRemoteURI('qemu+ssh://h/system?keyfile=/k&no_verify=1&proxy=netcat&netcat=/bin/nc&Command=/usr/bin/ssh&mode=legacy');
    expect(t.client).toEqual({ keyfile: '/k', noVerify: true, noTty: false, noSanity: false, proxy: 'netcat', netcat: '/bin/nc', command: '/usr/bin/ssh', mode: 'legacy' });
    expect(t.params.get('keyfile')).toBe('/k'); // the raw parameters stay available
  });

  it('takes a URL object as well as a string', () => {
    expect(parseRemoteURI(new URL('test+tcp://127.0.0.1:1234/default'))).toMatchObject({ transport: 'tcp', port: 1234, host: '127.0.0.1' });
  });

  it.each([
    ['', /empty connection URI/],
    ['   ', /empty connection URI/],
    ['not a uri', /cannot parse/],
    ['qemu:/system', /needs '\/\/'/],
    ['qemu+carrier-pigeon://h/system', /transport 'carrier-pigeon'.*not recognised/],
    ['+ssh://h/', /cannot parse|names no driver/],
    ['qemu+unix://h/system', /unix socket with the remote server 'h'/],
    ['qemu+ext:///system', /ext transport needs \?command=/],
    ['qemu+tcp://h:99999/system', /cannot parse/],
    ['qemu+tls://h/system?no_verify=yes', /expects an integer, got 'yes'/],
    ['qemu+ssh://h/system?proxy=telnet', /proxy='telnet' is not one of auto, native, netcat/],
    ['qemu+ssh://%zz@h/system', /malformed percent-encoding/],
  ])('rejects %j with a VirError', (uri, message) => {
    let caught: unknown;
    try {
      parseRemoteURI(uri);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(VirError);
    expect((caught as VirError).code).toBe('VIR_ERR_INVALID_ARG');
    expect((caught as VirError).message).toMatch(message);
  });
});

describe('chooseUnixSocket', () => {
  const none = () => false;
  it('uses ?socket= as given', () => {
    expect(chooseUnixSocket(parseRemoteURI('test+unix:///default?socket=/tmp/a/sock'), { exists: none })).toEqual({ path: '/tmp/a/sock', considered: ['/tmp/a/sock'], reason: 'socket-param' });
  });

  it("prefers the modular daemon's socket when it exists, else libvirtd's (system, root)", () => {
    const t = parseRemoteURI('qemu:///system');
    expect(chooseUnixSocket(t, { euid: 0, exists: (p) => p === '/run/libvirt/virtqemud-sock' }).path).toBe('/run/libvirt/virtqemud-sock');
    const legacy = chooseUnixSocket(t, { euid: 0, exists: none });
    expect(legacy.path).toBe('/run/libvirt/libvirt-sock');
    expect(legacy.considered).toEqual(['/run/libvirt/virtqemud-sock', '/run/libvirt/libvirt-sock']);
    expect(chooseUnixSocket(t, { euid: 0, exists: none, readonly: true }).path).toBe('/run/libvirt/libvirt-sock-ro');
  });

  it('honours ?mode=direct and ?mode=legacy without looking', () => {
    expect(chooseUnixSocket(parseRemoteURI('qemu:///system?mode=direct'), { euid: 0, exists: none }).path).toBe('/run/libvirt/virtqemud-sock');
    expect(chooseUnixSocket(parseRemoteURI('qemu:///system?mode=legacy'), { euid: 0, exists: () => true }).path).toBe('/run/libvirt/libvirt-sock');
  });

  it('uses the per-user runtime dir for /session and test+ URIs when not root', () => {
    const env = { XDG_RUNTIME_DIR: '/run/user/1000' };
    expect(wantsSessionDaemon(parseRemoteURI('qemu:///session'), 1000)).toBe(true);
    expect(wantsSessionDaemon(parseRemoteURI('qemu:///session'), 0)).toBe(false);
    expect(wantsSessionDaemon(parseRemoteURI('test+unix:///default'), 1000)).toBe(true);
    expect(wantsSessionDaemon(parseRemoteURI('test:///default'), 1000)).toBe(false);
    expect(chooseUnixSocket(parseRemoteURI('qemu:///session'), { euid: 1000, env, exists: none }).path).toBe('/run/user/1000/libvirt/libvirt-sock');
    expect(userRuntimeDir({}, '/home/u')).toBe('/home/u/.cache/libvirt');
    expect(userRuntimeDir({ XDG_CACHE_HOME: '/c' }, '/home/u')).toBe('/c/libvirt');
  });

  it('rejects an empty ?socket=', () => {
    expect(() => chooseUnixSocket(parseRemoteURI('test+unix:///default?socket='))).toThrow(/empty \?socket=/);
  });
});
