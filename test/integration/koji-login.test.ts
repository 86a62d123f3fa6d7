import https from 'node:https';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKojiClient } from '../../src/koji/client';
import { KojiAuthError, KojiLoginError } from '../../src/koji/errors';
import { startHubStandin, type HubStandin } from '../../lab/koji-hub/hub-standin';
import { postXml } from '../../src/koji/http-post';
import { encodeMethodCall } from '../../src/koji/xmlrpc';
import { decodeMethodResponse } from '../../src/koji/xmlrpc';
import { createKojiTestPki, type KojiTestPki } from '../../lab/pki/koji-pki';

let pki: KojiTestPki;
let hub: HubStandin;
const fast = { baseMs: 10, maxMs: 50, maxElapsedMs: 2_000 };

beforeAll(async () => {
  pki = await createKojiTestPki({ users: ['rekick', 'stranger'] });
  hub = await startHubStandin({ tls: { key: pki.hub.keyPem, cert: pki.hub.certPem, ca: pki.ca.certPem } });
  hub.addUser('rekick', ['host']);
  hub.addHost('buildarm-03', { arches: 'aarch64' });
});

afterAll(async () => {
  await hub?.stop();
  if (pki) await rm(pki.dir, { recursive: true, force: true });
});

function client(certPath: string, extra: Parameters<typeof createKojiClient>[0] = {}) {
  return createKojiClient({ server: hub.url, cert: certPath, serverca: pki.ca.certPath, retry: fast, ...extra });
}

/** sslLogin as a client that sends what it is given, without the client's own checks. */
async function rawLogin(pem: string | undefined, maxVersion: 'TLSv1.2' | 'TLSv1.3') {
  const agent = new https.Agent({ ca: pki.ca.certPem, cert: pem, key: pem, maxVersion, keepAlive: false });
  try {
    return await postXml(new URL(`${hub.url}/ssllogin`), encodeMethodCall('sslLogin', []), { agent, headers: {}, signal: AbortSignal.timeout(5_000) });
  } finally {
    agent.destroy();
  }
}

describe('sslLogin against a hub that asks for the certificate only at /kojihub/ssllogin', () => {
  it('logs in with a good certificate: the login goes over TLS 1.2 (renegotiation), later calls over TLS 1.3 without it', async () => {
    const c = client(pki.clients.rekick!.pemPath);
    const me = await c.whoami();
    expect(me?.name).toBe('rekick');
    expect(me?.authtype).toBe(2); // koji.AUTHTYPES['SSL']
    const login = hub.calls.find((x) => x.method === 'sslLogin' && x.user === undefined && x.path === '/kojihub/ssllogin');
    expect(login?.tlsVersion).toBe('TLSv1.2');
    const who = hub.calls.filter((x) => x.method === 'getLoggedInUser').at(-1);
    expect(who?.path).toBe('/kojihub');
    expect(who?.tlsVersion).toBe('TLSv1.3');
    await c.close();
  });

  it('the stand-in refuses a TLS 1.3 login (no post-handshake auth) and a login without a certificate, like Apache', async () => {
    const pem = pki.clients.rekick!.certPem + pki.clients.rekick!.keyPem;
    const tls13 = await rawLogin(pem, 'TLSv1.3');
    expect(tls13.status).toBe(403);
    expect(tls13.text).toMatch(/post-handshake/);
    const none = await rawLogin(undefined, 'TLSv1.2');
    expect(none.status).toBe(403);
    expect(none.text).toMatch(/no certificate/);
    const ok = await rawLogin(pem, 'TLSv1.2');
    expect(ok.status).toBe(200);
    expect(await decodeMethodResponse(ok.text)).toMatchObject({ 'header-auth': true, 'session-id': expect.any(Number) });
  });

  it('sslLogin at /kojihub (no certificate asked) is an AuthError, as on a real hub', async () => {
    const agent = new https.Agent({ ca: pki.ca.certPem });
    const a = await postXml(new URL(hub.url), encodeMethodCall('sslLogin', []), { agent, headers: {}, signal: AbortSignal.timeout(5_000) });
    agent.destroy();
    await expect(decodeMethodResponse(a.text)).rejects.toMatchObject({ faultCode: 1002, faultString: 'could not verify client: None' });
  });

  it('refuses a certificate whose CN is not a Koji user, with a typed AuthError', async () => {
    const c = client(pki.clients.stranger!.pemPath);
    const err = await c.getHost('buildarm-03').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KojiAuthError);
    expect((err as KojiAuthError).faultString).toBe('Unknown user: stranger');
    expect((err as Error).message).toMatch(/CN must be an existing/);
  });

  it('refuses a certificate from another CA (HTTP 403 at /ssllogin) with a KojiLoginError that says what to check', async () => {
    const c = client(pki.foreign.pemPath);
    const err = await c.getHost('buildarm-03').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KojiLoginError);
    expect((err as Error).message).toMatch(/refused rekick's client certificate.*403.*UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect((err as Error).message).toMatch(/signed by the CA the hub trusts/);
  });

  it('refuses an expired certificate: the client says so before sending it, and the hub refuses it too', async () => {
    const c = client(pki.expired.pemPath);
    const err = await c.getHost('buildarm-03').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KojiLoginError);
    expect((err as Error).message).toMatch(/expired on .*issue a new one/);
    const raw = await rawLogin(pki.expired.certPem + pki.expired.keyPem, 'TLSv1.2');
    expect(raw.status).toBe(403);
    expect(raw.text).toMatch(/CERT_HAS_EXPIRED/);
  });

  it("refuses a hub whose certificate it cannot verify (no koji.serverca) and names the setting", async () => {
    const c = createKojiClient({ server: hub.url, cert: pki.clients.rekick!.pemPath, retry: fast });
    const err = await c.getHost('buildarm-03').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KojiLoginError);
    expect((err as Error).message).toMatch(/koji\.serverca/);
  });

  it('reads a PEM that lacks the key as a clear error', async () => {
    const c = client(pki.clients.rekick!.certPath);
    await expect(c.getHost('x')).rejects.toThrow(/both the certificate and its private key/);
  });
});
