import https from 'node:https';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKojiClient, type KojiXmlRpcClient } from '../../src/koji/client';
import { KojiActionNotAllowed } from '../../src/koji/errors';
import { startHubStandin, type HubStandin } from '../../lab/koji-hub/hub-standin';
import { postXml } from '../../src/koji/http-post';
import { encodeMethodCall, type XmlRpcValue } from '../../src/koji/xmlrpc';
import { decodeMethodResponse } from '../../src/koji/xmlrpc';
import { createKojiTestPki, type KojiTestPki } from '../../lab/pki/koji-pki';

let pki: KojiTestPki;
let hub: HubStandin;
const clients: KojiXmlRpcClient[] = [];
const fast = { baseMs: 10, maxMs: 50, maxElapsedMs: 3_000 };

beforeAll(async () => {
  pki = await createKojiTestPki({ users: ['rekick', 'viewer', 'admin'] });
  hub = await startHubStandin({ tls: { key: pki.hub.keyPem, cert: pki.hub.certPem, ca: pki.ca.certPem } });
  hub.addUser('rekick', ['host']);
  hub.addUser('viewer');
  hub.addUser('admin', ['admin']);
  hub.addHost('buildarm-03', { arches: 'aarch64' });
  hub.addHost('buildarm-04', { arches: 'aarch64' });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await hub?.stop();
  if (pki) await rm(pki.dir, { recursive: true, force: true });
});

function client(user: string) {
  const c = createKojiClient({ server: hub.url, cert: pki.clients[user]!.pemPath, serverca: pki.ca.certPath, retry: fast });
  clients.push(c);
  return c;
}

/** A session of our own, and raw calls with chosen call numbers. */
async function rawSession(user: string) {
  const pem = pki.clients[user]!.certPem + pki.clients[user]!.keyPem;
  const loginAgent = new https.Agent({ ca: pki.ca.certPem, cert: pem, key: pem, maxVersion: 'TLSv1.2', keepAlive: false });
  const a = await postXml(new URL(`${hub.url}/ssllogin`), encodeMethodCall('sslLogin', []), { agent: loginAgent, headers: {}, signal: AbortSignal.timeout(5_000) });
  loginAgent.destroy();
  const s = (await decodeMethodResponse(a.text)) as { 'session-id': number; 'session-key': string };
  const agent = new https.Agent({ ca: pki.ca.certPem });
  return {
    id: s['session-id'],
    call: async (method: string, params: XmlRpcValue[], callnum: number) => {
      const r = await postXml(new URL(hub.url), encodeMethodCall(method, params), {
        agent,
        headers: { 'Koji-Session-Id': String(s['session-id']), 'Koji-Session-Key': s['session-key'], 'Koji-Session-Callnum': String(callnum) },
        signal: AbortSignal.timeout(5_000),
      });
      return decodeMethodResponse(r.text).catch((e: { faultCode: number; faultString: string }) => ({ fault: e.faultCode, text: e.faultString }));
    },
    close: () => agent.destroy(),
  };
}

describe('Koji sessions', () => {
  it('sends the session in Koji-Session-* headers, call numbers 0, 1, 2... with a multiCall counting once', async () => {
    const c = client('rekick');
    await c.getHost('buildarm-03');
    await c.multiCall([{ method: 'getHost', args: ['buildarm-03'] }, { method: 'getHost', args: ['buildarm-04'] }]);
    await c.listOpenTasks(1);
    const me = await c.whoami();
    const mine = hub.calls.filter((x) => x.user === me?.name && !x.inMultiCall && x.sessionId === hub.calls.at(-1)!.sessionId);
    expect(mine.map((x) => [x.method, x.callnum])).toEqual([
      ['getHost', 0],
      ['multiCall', 1],
      ['listTasks', 2],
      ['getLoggedInUser', 3],
    ]);
  });

  it('renews a session that expires mid-way without failing the caller, and keeps counting', async () => {
    const c = client('rekick');
    await c.getHost('buildarm-03');
    const before = hub.calls.at(-1)!;
    hub.expireSession(before.sessionId);
    const h = await c.getHost('buildarm-04'); // meets AuthExpired, renews, retries
    expect(h?.name).toBe('buildarm-04');
    const after = hub.calls.slice(hub.calls.indexOf(before) + 1);
    expect(after.map((x) => x.fault?.faultCode ?? x.method)).toEqual([1007, 'sslLogin', 'getHost']);
    const renewal = after[1]!;
    expect(renewal.params).toEqual([{ renew: true, __starstar: true }]);
    expect(after[2]!.sessionId).toBe(before.sessionId); // the same session, renewed
    expect(after[2]!.callnum).toBeGreaterThan(before.callnum!);
    await c.disableHost('buildarm-04'); // a write after renewal is accepted (no SequenceError)
    expect(hub.host('buildarm-04')?.enabled).toBe(false);
    hub.setHost('buildarm-04', { enabled: true });
  });

  it('applies the call number rules: lower is a SequenceError, a repeated write a RetryError, a repeated read is fine', async () => {
    const s = await rawSession('rekick');
    expect(await s.call('getHost', ['buildarm-03'], 5)).toMatchObject({ name: 'buildarm-03' });
    expect(await s.call('getHost', ['buildarm-03'], 5)).toMatchObject({ name: 'buildarm-03' }); // reads do not store the number
    expect(await s.call('editHost', ['buildarm-03', { comment: 'x', __starstar: true }], 6)).toBe(true);
    expect(await s.call('editHost', ['buildarm-03', { comment: 'y', __starstar: true }], 6)).toEqual({
      fault: 1009,
      text: `unable to retry call 6 (method editHost) for session ${s.id}`,
    });
    expect(await s.call('getHost', ['buildarm-03'], 4)).toEqual({ fault: 1008, text: `6 > 4 (session ${s.id})` });
    expect(await s.call('getHost', ['buildarm-03'], 7)).toMatchObject({ comment: 'x' });
    s.close();
  });

  it('answers ActionNotAllowed to a user without the host permission, with a message naming the grant', async () => {
    const c = client('viewer');
    const err = await c.disableHost('buildarm-03').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KojiActionNotAllowed);
    expect((err as KojiActionNotAllowed).faultString).toBe('host permission required (logged in as viewer)');
    expect((err as Error).message).toMatch(/koji grant-permission host USER/);
    expect(hub.host('buildarm-03')?.enabled).toBe(true);
  });

  it('freeTask needs admin: refused for the host-permission user, done for an admin', async () => {
    const t = hub.createTask('buildarm-03', { method: 'buildArch' });
    const err = await client('rekick').freeTask(t.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KojiActionNotAllowed);
    expect((err as Error).message).toMatch(/admin permission required.*ask a Koji admin/);
    await client('admin').freeTask(t.id);
    expect(hub.task(t.id)).toMatchObject({ state: 0, host_id: null });
    hub.finishTask(t.id);
  });

  it('logs out on close: the session is closed on the hub', async () => {
    const c = client('rekick');
    await c.getHost('buildarm-03');
    const id = hub.calls.at(-1)!.sessionId!;
    await c.close();
    expect(hub.state.sessions.get(id)?.closed).toBe(true);
    await expect(c.getHost('buildarm-03')).rejects.toThrow(/closed/);
  });
});
