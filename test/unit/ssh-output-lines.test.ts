/** Output splitting, tails and redaction of secrets (multi-line ones too). */
import { describe, expect, it } from 'vitest';
import { createRedactor, OutputCollector } from '../../src/ssh/output-lines';

describe('OutputCollector', () => {
  it('joins chunks into lines per stream, strips CR, keeps 20 lines of tail', () => {
    const seen: string[] = [];
    const c = new OutputCollector((t) => t, (l, s) => seen.push(`${s}:${l}`));
    c.push('stdout', 'hel');
    c.push('stderr', 'warn\r\n');
    c.push('stdout', 'lo\nwor');
    c.push('stdout', 'ld');
    c.end();
    expect(seen).toEqual(['stderr:warn', 'stdout:hello', 'stdout:world']);
    for (let i = 0; i < 30; i++) c.push('stdout', `l${i}\n`);
    expect(c.tail).toHaveLength(20);
    expect(c.tail[19]).toBe('l29');
  });

  it('drops filtered lines before they are kept or shown', () => {
    const c = new OutputCollector((t) => t, undefined, (l) => !l.startsWith('marker'));
    c.push('stderr', 'marker 123\nreal\n');
    expect(c.stderr).toBe('real\n');
    expect(c.tail).toEqual(['real']);
  });
});

describe('createRedactor', () => {
  it('redacts whole secrets and each substantial line of a multi-line secret', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIabcdefghijklmnop\nsecond-line-of-key-material\n-----END PRIVATE KEY-----\n';
    const r = createRedactor([pem, 'hunter22-password']);
    expect(r('pw=hunter22-password ok')).toBe('pw=[redacted] ok');
    expect(r('MC4CAQAwBQYDK2VwBCIEIabcdefghijklmnop')).toBe('[redacted]');
    expect(r('x second-line-of-key-material y')).toBe('x [redacted] y');
    expect(r('-----BEGIN PRIVATE KEY-----')).toBe('-----BEGIN PRIVATE KEY-----');
    expect(createRedactor([])('anything')).toBe('anything');
  });
});
