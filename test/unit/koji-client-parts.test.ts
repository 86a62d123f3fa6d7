import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY } from '../../src/koji/client-options';
import { KojiGenericError, KojiLoginError, KojiProtocolError } from '../../src/koji/errors';
import { toMultiCallResults } from '../../src/koji/hub-shapes';
import { loadHubSettings, resolveHubSettings } from '../../src/koji/hub-settings';
import { backoffMs } from '../../src/koji/hub-transport';
import { sessionTarget } from '../../src/koji/session';
import { callTlsFailure, loginTlsFailure } from '../../src/koji/tls-errors';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rekick-koji-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('backoff between attempts', () => {
  const retry = { ...DEFAULT_RETRY, baseMs: 100, maxMs: 1_000, jitter: 0.5, maxElapsedMs: 10_000 };
  it('doubles from baseMs up to maxMs, jitter taking up to its share off', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(retry, a, 0, 0))).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoffMs(retry, 2, 0, 1)).toBe(100);
  });
  it('never waits past the deadline', () => {
    expect(backoffMs(retry, 5, 9_900, 0)).toBe(100);
    expect(backoffMs(retry, 5, 12_000, 0)).toBe(0);
  });
});

describe('a session on a call', () => {
  const url = new URL('https://koji.example.org/kojihub');
  it('in headers for hubs since 1.30, in the query string before', () => {
    expect(sessionTarget(url, { id: 7, key: 'k', headerAuth: true, callnum: 0 }, 3)).toEqual({
      target: url,
      headers: { 'Koji-Session-Id': '7', 'Koji-Session-Key': 'k', 'Koji-Session-Callnum': '3' },
    });
    const old = sessionTarget(url, { id: 7, key: 'k', headerAuth: false, callnum: 0 }, 3);
    expect(old.headers).toEqual({});
    expect(old.target.href).toBe('https://koji.example.org/kojihub?session-id=7&session-key=k&callnum=3');
    expect(sessionTarget(url, undefined, 0)).toEqual({ target: url, headers: {} });
  });
});

describe('TLS failures', () => {
  const err = (code: string) => Object.assign(new Error(`boom ${code}`), { code });
  it('at login: server certificate, TLS version, alerts and other TLS errors end the login; the rest is retried', () => {
    expect(loginTlsFailure(err('CERT_HAS_EXPIRED'))?.message).toMatch(/koji\.serverca/);
    expect(loginTlsFailure(err('ERR_SSL_UNSUPPORTED_PROTOCOL'))?.message).toMatch(/allow TLS 1\.2 for \/kojihub\/ssllogin/);
    expect(loginTlsFailure(err('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'))?.message).toMatch(/refused rekick's client certificate during the TLS handshake/);
    expect(loginTlsFailure(err('ERR_SSL_WRONG_VERSION_NUMBER'))).toBeInstanceOf(KojiProtocolError);
    expect(loginTlsFailure(err('ECONNREFUSED'))).toBeUndefined();
  });
  it('on calls: an alert is retried (a dropped connection), certificate and other TLS errors are not', () => {
    expect(callTlsFailure(err('DEPTH_ZERO_SELF_SIGNED_CERT'))).toBeInstanceOf(KojiLoginError);
    expect(callTlsFailure(err('ERR_SSL_UNSUPPORTED_PROTOCOL'))).toBeInstanceOf(KojiProtocolError);
    expect(callTlsFailure(err('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'))).toBeUndefined();
    expect(callTlsFailure(err('ECONNRESET'))).toBeUndefined();
  });
});

describe('multiCall results', () => {
  it('a value per call, or its fault as a typed error; a count that does not match is a protocol error', () => {
    const calls = [{ method: 'getHost' }, { method: 'disableHost' }];
    expect(toMultiCallResults([[{ id: 1 }], { faultCode: 1000, faultString: 'no' }], calls)).toEqual([
      { ok: true, value: { id: 1 } },
      { ok: false, error: expect.any(KojiGenericError) },
    ]);
    expect(() => toMultiCallResults([[1]], calls)).toThrow('multiCall returned 1 results for 2 calls');
  });
});

describe('hub settings, settled when the client is created', () => {
  it('reads the profile and the CA once; a failure is kept and given to each use', () => {
    const conf = path.join(dir, 'koji.conf');
    writeFileSync(conf, `[lab]\nserver = https://koji.lab/kojihub/\nserverca = ${path.join(dir, 'ca.pem')}\ncert = ${path.join(dir, 'c.pem')}\n`);
    writeFileSync(path.join(dir, 'ca.pem'), 'CA');
    const settings = loadHubSettings({ profile: 'lab', profilePaths: { sources: [conf], home: dir } });
    rmSync(conf);
    expect(settings()).toMatchObject({ url: new URL('https://koji.lab/kojihub'), ca: 'CA', authtype: 'ssl', certPath: path.join(dir, 'c.pem') });
    const missing = loadHubSettings({ server: 'https://koji.lab/kojihub', serverca: path.join(dir, 'absent.pem') });
    expect(() => missing()).toThrow(/cannot read koji.serverca .*absent\.pem/);
    expect(() => missing()).toThrow(KojiLoginError);
  });
  it('kerberos when a principal or keytab is all there is; an unknown authtype is refused', () => {
    expect(resolveHubSettings({ server: 'https://k/kojihub', keytab: '/k.keytab' }).authtype).toBe('kerberos');
    expect(() => resolveHubSettings({ server: 'https://k/kojihub', authtype: 'password' as 'ssl' })).toThrow(/authtype "password" is not supported/);
    expect(() => resolveHubSettings({ server: 'not a url' })).toThrow(/is not a URL/);
  });
});
