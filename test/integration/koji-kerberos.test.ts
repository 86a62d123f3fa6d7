/**
 * Kerberos (GSSAPI Negotiate) login to Koji against a REAL MIT KDC on loopback (./helpers/kdc): rekick's client
 * gets a token for HTTP@127.0.0.1 from its keytab (no kinit, no password), the hub stand-in accepts it at
 * /kojihub/ssllogin with the service keytab and maps the principal to a Koji user as kojihub does.
 * Proves: login end to end and calls with the session; an unknown principal refused with Koji's AuthError; an
 * expired ticket (max_life 3 s) renewed from the keytab when the hub session expires mid-job, without failing the
 * job (the executor with the real Koji steps); a wrong or stale keytab failing at start with a clear error, and
 * the config loader refusing it. Skipped (loudly) only when the `kerberos` binding did not build.
 */
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { ConfigError } from '../../src/errors';
import { Executor } from '../../src/executor/executor';
import { createKojiClient, type KojiClientOptions, type KojiXmlRpcClient } from '../../src/koji/client';
import { KojiAuthError, KojiLoginError } from '../../src/koji/errors';
import { startHubStandin, type HubStandin } from '../../lab/koji-hub/hub-standin';
import { KerberosLoginError, loadKerberosBinding } from '../../src/koji/kerberos';
import { createKojiTestPki, type KojiTestPki } from '../../lab/pki/koji-pki';
import { disableStep } from '../../src/steps/disable';
import { drainStep } from '../../src/steps/drain';
import { enableStep } from '../../src/steps/enable';
import type { ExecutorEvent } from '../../src/model';
import { MemoryStore } from '../../store/memory-store';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';
import { startTestKdc, type TestKdc } from './helpers/kdc';
import { until } from '../support/until';

const binding = await loadKerberosBinding().then(
  () => undefined,
  (err: Error) => err.message,
);
if (binding) console.warn(`SKIPPED koji-kerberos tests: the kerberos GSSAPI binding is unavailable: ${binding}`);

let kdc: TestKdc;
let pki: KojiTestPki;
let hub: HubStandin;
const keytabs: Record<string, string> = {};
const clients: KojiXmlRpcClient[] = [];
const fast = { baseMs: 20, maxMs: 100, maxElapsedMs: 5_000 };
const kevin = { source: 'irc' as const, id: 'kevin', display: 'kevin' };
const nirik = { source: 'irc' as const, id: 'nirik', display: 'nirik' };
const origin = { adapter: 'irc', room: '#builders' };

beforeAll(async () => {
  if (binding) return;
  // clockskew 1 s: an expired ticket is refused at once, not 5 minutes later
  kdc = await startTestKdc({ clockskewSeconds: 1 });
  await kdc.addPrincipal('HTTP/127.0.0.1');
  await kdc.addPrincipal('rekick');
  await kdc.addPrincipal('rekick-short', { maxLife: '3 seconds' });
  await kdc.addPrincipal('stranger');
  await kdc.addPrincipal('rekick-stale');
  for (const p of ['HTTP/127.0.0.1', 'rekick', 'rekick-short', 'stranger', 'rekick-stale']) keytabs[p] = await kdc.keytab(p);
  await kdc.keytab('rekick-stale'); // re-keyed: the first keytab of rekick-stale is now out of date
  pki = await createKojiTestPki({ users: [] });
  hub = await startHubStandin({
    tls: { key: pki.hub.keyPem, cert: pki.hub.certPem, ca: pki.ca.certPem },
    kerberos: { keytab: keytabs['HTTP/127.0.0.1']!, krb5Config: kdc.krb5Config, allowedRealms: kdc.realm },
    users: [
      { name: 'rekick', perms: ['host'], krbPrincipals: [`rekick@${kdc.realm}`] },
      { name: 'rekick-batch', perms: ['host'], krbPrincipals: [`rekick-short@${kdc.realm}`] },
      { name: 'rekick-stale', perms: ['host'], krbPrincipals: [`rekick-stale@${kdc.realm}`] },
    ],
  });
  for (const n of ['buildarm-01', 'buildarm-02', 'buildarm-03']) hub.addHost(n, { arches: 'aarch64' });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await hub?.stop();
  if (pki) await rm(pki.dir, { recursive: true, force: true });
  await kdc?.stop();
  if (kdc) expect(existsSync(kdc.dir)).toBe(false);
});

function client(principal: string, keytab: string, extra: Partial<KojiClientOptions> = {}): KojiXmlRpcClient {
  const c = createKojiClient({
    server: hub.url,
    serverca: pki.ca.certPath,
    authtype: 'kerberos',
    principal: `${principal}@${kdc.realm}`,
    keytab,
    krb5Config: kdc.krb5Config,
    retry: fast,
    ...extra,
  });
  clients.push(c);
  return c;
}

/** The distinct authentication times of the initial tickets (AS_REQ) the KDC issued to a principal. */
async function initialTickets(principal: string): Promise<Set<string>> {
  const log = await kdc.log();
  const times = log
    .split('\n')
    .filter((l) => l.includes('AS_REQ') && l.includes(`}, ${principal}@${kdc.realm} for krbtgt/`) && l.includes('ISSUE'))
    .map((l) => /authtime (\d+)/.exec(l)?.[1] ?? '');
  return new Set(times);
}


describe.skipIf(Boolean(binding))('Kerberos login to Koji against a real MIT KDC', () => {
  it('logs in from the keytab (no kinit), then works with the session like an SSL login', async () => {
    const c = client('rekick', keytabs.rekick!);
    await c.checkCredentials();
    const me = await c.whoami();
    expect(me).toMatchObject({ name: 'rekick', authtype: 3, krb_principal: `rekick@${kdc.realm}` }); // koji.AUTHTYPES['GSSAPI']
    await c.disableHost('buildarm-01', { comment: 'rekick: reinstalling' });
    expect(hub.host('buildarm-01')).toMatchObject({ enabled: false, comment: 'rekick: reinstalling' });
    await c.enableHost('buildarm-01');
    expect(hub.host('buildarm-01')!.enabled).toBe(true);
    expect(await c.getPerms()).toEqual(['host']);

    const logins = hub.calls.filter((x) => x.method === 'sslLogin' && x.path === '/kojihub/ssllogin');
    expect(logins).toHaveLength(1);
    expect(logins[0]!.fault).toBeUndefined();
    // later calls carry the session, not Kerberos
    const later = hub.calls.filter((x) => x.method === 'getPerms').at(-1)!;
    expect(later).toMatchObject({ path: '/kojihub', user: 'rekick' });
    // the ticket came from the KDC for rekick, into a private cache: the realm's default cache stays untouched
    expect((await initialTickets('rekick')).size).toBeGreaterThanOrEqual(1);
    expect(existsSync(path.join(kdc.dir, 'ccache-default'))).toBe(false);
    expect(c.authtype).toBe('kerberos');
  });

  it('the stand-in answers 401 Negotiate without a token and refuses a replayed one, as mod_auth_gssapi does', async () => {
    const { postXml } = await import('../../src/koji/http-post');
    const { encodeMethodCall } = await import('../../src/koji/xmlrpc');
    const https = await import('node:https');
    const agent = new https.Agent({ ca: pki.ca.certPem, keepAlive: false });
    const url = new URL(`${hub.url}/ssllogin`);
    const send = (headers: Record<string, string>) => postXml(url, encodeMethodCall('sslLogin', []), { agent, headers, signal: AbortSignal.timeout(5_000) });
    const none = await send({});
    expect(none.status).toBe(401);
    expect(none.text).toMatch(/Negotiate/);
    const { NegotiateTokenSource } = await import('../../src/koji/kerberos');
    const src = new NegotiateTokenSource({ principal: `rekick@${kdc.realm}`, keytab: keytabs.rekick, krb5Config: kdc.krb5Config });
    const token = await src.token('127.0.0.1');
    expect((await send({ Authorization: `Negotiate ${token}` })).status).toBe(200);
    const replay = await send({ Authorization: `Negotiate ${token}` });
    expect(replay.status).toBe(401);
    expect(replay.text).toMatch(/replay/i);
    agent.destroy();
  });

  it('refuses a principal the hub does not know with Koji AuthError "Unknown user"', async () => {
    const c = client('stranger', keytabs.stranger!);
    await c.checkCredentials(); // the KDC knows it: only the hub refuses
    const err = await c.getHost('buildarm-01').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KojiAuthError);
    expect((err as KojiAuthError).faultString).toBe(`Unknown user: stranger@${kdc.realm}`);
    expect((err as Error).message).toMatch(/koji\.principal must belong to an enabled Koji user/);
  });

  it('a wrong keytab fails at start with a clear error, before the hub is called', async () => {
    const before = hub.calls.length;
    // the keytab of another principal
    const wrong = client('rekick', keytabs.stranger!);
    const e1 = await wrong.checkCredentials().catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(KerberosLoginError);
    expect((e1 as Error).message).toMatch(new RegExp(`holds no key for koji.principal rekick@${kdc.realm} \\(it holds stranger@${kdc.realm}\\)`));
    const e1call = await wrong.whoami().catch((e: unknown) => e);
    expect(e1call).toBeInstanceOf(KojiLoginError);
    expect((e1call as Error).message).toMatch(/holds no key for rekick@/);
    // a keytab whose key is out of date (the principal was re-keyed)
    const stale = client('rekick-stale', keytabs['rekick-stale']!);
    const e2 = await stale.checkCredentials().catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(KerberosLoginError);
    expect((e2 as Error).message).toMatch(/is not rekick-stale@.*current key.*export a fresh keytab/);
    expect((e2 as KerberosLoginError).retryable).toBe(false);
    // a file that is not a keytab
    const junk = path.join(kdc.dir, 'junk.keytab');
    await writeFile(junk, 'not a keytab');
    const e3 = await client('rekick', junk).checkCredentials().catch((e: unknown) => e);
    expect((e3 as Error).message).toMatch(/is not a Kerberos keytab/);
    expect(hub.calls.length).toBe(before);
  });

  it('the config loader refuses a missing keytab and a keytab without koji.principal', () => {
    const cfg = (koji: Record<string, unknown>) => () =>
      parseConfig(
        stringify({
          koji: { server: hub.url, authtype: 'kerberos', ...koji },
          ssh: { key: kdc.krb5Config, knownHosts: kdc.krb5Config },
          installer: { kernel: 'http://dl/vmlinuz', initrd: 'http://dl/initrd.img', kickstart: 'http://ks/{host}.ks' },
          hosts: [{ name: 'buildarm-01', kind: 'baremetal' }],
        }),
        { baseDir: kdc.dir, checkFiles: true },
      );
    const problems = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems.filter((p) => p.startsWith('koji.'));
      }
      return [];
    };
    expect(problems(cfg({ principal: `rekick@${kdc.realm}`, keytab: keytabs.rekick }))).toEqual([]);
    expect(problems(cfg({ principal: `rekick@${kdc.realm}`, keytab: 'missing.keytab' }))).toEqual([`koji.keytab: file ${path.join(kdc.dir, 'missing.keytab')} does not exist`]);
    expect(problems(cfg({ principal: `rekick@${kdc.realm}`, keytab: keytabs.stranger }))).toEqual([
      `koji.keytab: ${keytabs.stranger} holds no key for koji.principal rekick@${kdc.realm} (it holds stranger@${kdc.realm})`,
    ]);
  });

  it('a lab reinstall with authtype kerberos: the ticket expires mid-job, a new one comes from the keytab, the job succeeds', async () => {
    const config = testConfig({
      koji: { server: hub.url, authtype: 'kerberos', principal: `rekick-short@${kdc.realm}`, keytab: keytabs['rekick-short'], serverca: pki.ca.certPath, pollInterval: '50ms' },
      timeouts: { drain: '30s', sshReturn: '5s', step: '30s' },
    });
    const koji = createKojiClient({ ...config.koji, krb5Config: kdc.krb5Config, retry: fast });
    clients.push(koji);
    await koji.checkCredentials();
    const events: ExecutorEvent[] = [];
    const scripted = new ScriptedSteps().steps();
    const steps = scripted.map((s) => (s.name === 'disable' ? disableStep : s.name === 'drain' ? drainStep : s.name === 'enable' ? enableStep : s));
    const store = new MemoryStore();
    await store.open();
    const executor = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log: pino({ level: 'silent' }), steps });
    executor.on((e) => events.push(e));

    const t = hub.createTask('buildarm-02', { method: 'buildArch', state: 1 });
    const ticketsBefore = await initialTickets('rekick-short');
    expect(ticketsBefore.size).toBe(1);
    const [job] = await executor.reinstall({ hosts: ['buildarm-02'], by: kevin, origin });
    await until(() => events.some((e) => e.type === 'step-progress' && e.step === 'drain'), 'drain to report what it waits for', 10_000);
    expect(hub.host('buildarm-02')).toMatchObject({ enabled: false });
    // the ticket (max_life 3 s) runs out while drain waits; then the hub's session expires too
    await new Promise((r) => setTimeout(r, 3_500));
    hub.expireSession();
    hub.finishTask(t.id);
    await executor.idle();
    expect(store.getJob(job!.id)!.state).toBe('awaiting-approval');
    await executor.approve(['buildarm-02'], { by: nirik, origin });
    await executor.idle();
    expect(store.getJob(job!.id)!.state).toBe('succeeded');
    expect(hub.host('buildarm-02')!.enabled).toBe(true);

    // the hub session was renewed (sslLogin renew=True with a new Negotiate token), not replaced
    const batch = hub.state.userByName('rekick-batch')!;
    const sessions = [...hub.state.sessions.values()].filter((s) => s.userId === batch.id);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.renew).not.toBeNull();
    // and the renewal needed a new initial ticket from the keytab: the first had expired (authtime later)
    const ticketsAfter = await initialTickets('rekick-short');
    expect(ticketsAfter.size).toBeGreaterThanOrEqual(2);
    expect(Math.max(...[...ticketsAfter].map(Number)) - Math.min(...[...ticketsBefore].map(Number))).toBeGreaterThanOrEqual(3);
    expect((await koji.whoami())?.name).toBe('rekick-batch');
  });
});
