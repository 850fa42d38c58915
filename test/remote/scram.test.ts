/** SCRAM against the example exchanges published in RFC 5802 (SHA-1) and RFC 7677 (SHA-256). */
import { describe, expect, it } from 'vitest';
import { ScramClient } from '../../lib/remote/scram.js';
import { VirError } from '../../lib/errors.js';

describe('SCRAM client', () => {
  it('reproduces the RFC 5802 SCRAM-SHA-1 example', () => {
    const c = new ScramClient('sha1', 'user', 'pencil', 'fyko+d2lbbFgONRv9qkxdawL');
    expect(c.first()).toBe('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
    expect(c.final('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096')).toBe(
      'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
    );
    expect(() => c.verify('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')).not.toThrow();
  });

  it('reproduces the RFC 7677 SCRAM-SHA-256 example', () => {
    const c = new ScramClient('sha256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    expect(c.final('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    expect(() => c.verify('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).not.toThrow();
  });

  it('refuses a wrong server signature, a server error, and a nonce that is not ours', () => {
    const c = new ScramClient('sha256', 'user', 'pencil', 'abc');
    expect(() => c.final('r=xyz123,s=AAAA,i=1')).toThrow(VirError);
    c.final('r=abcdef,s=AAAA,i=1');
    expect(() => c.verify('v=AAAA')).toThrow(/signature is wrong/);
    expect(() => c.verify('e=invalid-proof')).toThrow(/invalid-proof/);
    expect(new ScramClient('sha256', 'a=b,c', 'p', 'n').first()).toBe('n,,n=a=3Db=2Cc,r=n');
  });
});
