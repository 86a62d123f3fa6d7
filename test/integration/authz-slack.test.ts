/**
 * Slack requests at rekick's door, through the real createRekick wiring (lab peers, Slack Web API stand-in):
 * a bad signature, a stale timestamp and every kind of replay are refused (401), audited with who and why, and
 * change nothing; a Slack retry of an event already taken is acknowledged and not acted on. And one HTTP port:
 * /healthz and a signed Slack event answer on the same port, with an `http:` section and with Slack alone.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { startLabPeers, type LabPeers } from '../../src/lab/lab';
import { createRekick, type Rekick } from '../../src/main';
import { eventBody, postToBot, slackSignature, slashBody, startSlackApi, type SlackApiStandIn } from './helpers/slack-api';

const SECRET = 'authz-slack-signing-secret';
const CHANNEL = 'C0BUILDERS';
let peers: LabPeers;
let api: SlackApiStandIn;
const running: Rekick[] = [];

beforeAll(async () => {
  [peers, api] = await Promise.all([startLabPeers({ hosts: 2, fast: true }), startSlackApi()]);
}, 60_000);

afterAll(async () => {
  for (const r of running) await r.stop().catch(() => undefined);
  await api?.close();
  await peers?.stop();
});

/** The lab's config with a Slack section; `withHttp: false` drops the lab's `http:` section. */
async function startRekick(name: string, withHttp: boolean): Promise<Rekick> {
  const doc = parse(readFileSync(peers.configPath, 'utf8')) as Record<string, unknown>;
  doc.store = `./var/${name}.json`;
  doc.slack = { signingSecret: SECRET, token: 'xoxb-authz', port: 0, apiUrl: api.url, channels: [CHANNEL] };
  doc.roles = { operator: ['slack:U0KEVIN'], approver: ['slack:U0NIRIK'] };
  if (!withHttp) delete doc.http;
  const file = `${peers.dir}/${name}.yaml`;
  writeFileSync(file, stringify(doc));
  const rekick = await createRekick({ config: loadConfig(file, { env: {} }), log: pino({ level: 'silent' }), chat: { irc: false } });
  running.push(rekick);
  await rekick.start();
  return rekick;
}

async function until<T>(get: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** POSTs exactly these bytes with these headers (a replay as an attacker would send it). */
async function raw(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers, body });
  await res.text();
  return res.status;
}

describe('Slack requests: refused and audited', () => {
  let rekick: Rekick;
  let url: string;
  const refusals = () => rekick.store.listAudit().filter((e) => e.action === 'slack-request');
  const ran = (action: string) => rekick.store.listAudit().filter((e) => e.action === action && e.outcome === 'ok');

  beforeAll(async () => {
    rekick = await startRekick('guarded', true);
    url = `${rekick.http!.url}slack/events`;
  }, 30_000);

  it('a bad signature and a stale timestamp are refused, audited with why, and nothing runs', async () => {
    const bad = await postToBot(url, SECRET, eventBody({ user: 'U0NIRIK', channel: CHANNEL, text: '!status' }), 'application/json', { secret: 'not-the-secret' });
    expect(bad.status).toBe(401);
    const stale = await postToBot(url, SECRET, eventBody({ user: 'U0NIRIK', channel: CHANNEL, text: '!status' }), 'application/json', { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(stale.status).toBe(401);
    const unsigned = await raw(url, eventBody({ user: 'U0NIRIK', channel: CHANNEL, text: '!status' }), { 'content-type': 'application/json' });
    expect(unsigned).toBe(401);
    const entries = await until(() => (refusals().length >= 3 ? refusals() : undefined), 'three audited refusals');
    expect(entries.map((e) => e.outcome)).toEqual(['refused', 'refused', 'refused']);
    expect(entries[0]!.detail).toMatch(/^bad signature/);
    expect(entries[1]!.detail).toMatch(/^stale timestamp/);
    expect(entries[2]!.detail).toMatch(/^unsigned request/);
    // An unverified request's claimed user is not taken as who it was.
    expect(entries[0]!.who).toMatchObject({ source: 'slack', id: 'unverified', display: 'unverified request claiming U0NIRIK' });
    expect(entries[0]!.origin).toEqual({ adapter: 'slack', room: CHANNEL });
    await new Promise((r) => setTimeout(r, 200));
    expect(ran('!status')).toEqual([]);
  });

  it('the same signed request sent twice runs once; the replay is refused and audited with the user', async () => {
    const before = refusals().length;
    const body = eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!status buildarm-01' });
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = { 'content-type': 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SECRET, Number(ts), body) };
    expect(await raw(url, body, headers)).toBe(200);
    expect(await raw(url, body, headers)).toBe(401);
    await until(() => ran('!status').length === 1 || undefined, '!status to run once');
    const replay = refusals().slice(before);
    expect(replay).toHaveLength(1);
    expect(replay[0]).toMatchObject({ who: { source: 'slack', id: 'U0KEVIN' }, outcome: 'refused' });
    expect(replay[0]!.detail).toMatch(/^replayed request \(same signature/);
  });

  it('the same event_id signed anew is refused; a Slack retry of it is acknowledged and not acted on', async () => {
    const before = refusals().length;
    const runsBefore = ran('!hosts').length;
    const body = eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!hosts' });
    const eventId = (JSON.parse(body) as { event_id: string }).event_id;
    expect((await postToBot(url, SECRET, body, 'application/json')).status).toBe(200);
    await until(() => ran('!hosts').length === runsBefore + 1 || undefined, '!hosts to run');
    // Re-signed one second later: a new signature, the same event.
    const later = Math.floor(Date.now() / 1000) + 1;
    expect((await postToBot(url, SECRET, body, 'application/json', { timestamp: later })).status).toBe(401);
    // Slack's own retry (new timestamp, x-slack-retry-num): 200, nothing done, nothing refused.
    const ts = later + 1;
    const retry = await raw(url, body, {
      'content-type': 'application/json',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': slackSignature(SECRET, ts, body),
      'x-slack-retry-num': '1',
      'x-slack-retry-reason': 'http_timeout',
    });
    expect(retry).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(ran('!hosts').length).toBe(runsBefore + 1);
    const replay = refusals().slice(before);
    expect(replay).toHaveLength(1);
    expect(replay[0]!.detail).toContain(`replayed event_id ${eventId}`);
  });

  it('a slash command with a trigger_id already used is refused; the job is queued once', async () => {
    const before = refusals().length;
    const body = slashBody({ user: 'U0KEVIN', userName: 'kevin', channel: CHANNEL, text: 'reinstall buildarm-01', responseUrl: api.responseUrl('authz-s1') });
    expect((await postToBot(url, SECRET, body, 'application/x-www-form-urlencoded')).status).toBe(200);
    const resent = await postToBot(url, SECRET, body, 'application/x-www-form-urlencoded', { timestamp: Math.floor(Date.now() / 1000) + 2 });
    expect(resent.status).toBe(401);
    await until(() => ran('!reinstall').length === 1 || undefined, '!reinstall to run');
    await new Promise((r) => setTimeout(r, 200));
    expect(rekick.store.listJobs({ host: 'buildarm-01' })).toHaveLength(1);
    expect(ran('!reinstall')).toHaveLength(1);
    const replay = refusals().slice(before);
    expect(replay).toHaveLength(1);
    expect(replay[0]).toMatchObject({ who: { source: 'slack', id: 'U0KEVIN' }, action: 'slack-request', outcome: 'refused' });
    expect(replay[0]!.detail).toMatch(/^replayed trigger_id .* \(slash_command/);
  });
});

describe('one HTTP port for Slack and rekick', () => {
  it('with an http: section, /healthz and a signed Slack event answer on rekick\'s HTTP port', async () => {
    const rekick = await startRekick('one-port-http', true);
    const slack = rekick.adapters.find((a) => a.name === 'slack') as unknown as { port(): number };
    expect(slack.port()).toBe(0); // no second listener
    const health = await fetch(`${rekick.http!.url}healthz`);
    expect(health.status).toBe(200);
    const r = await postToBot(`${rekick.http!.url}slack/events`, SECRET, eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!whoami' }), 'application/json');
    expect(r.status).toBe(200);
    await until(() => rekick.store.listAudit().find((e) => e.action === '!whoami' && e.outcome === 'ok'), '!whoami from Slack');
  });

  it('with Slack alone, Slack\'s port serves /healthz, /metrics, the status page and Slack\'s events', async () => {
    const rekick = await startRekick('one-port-slack', false);
    expect(rekick.config.http).toBeUndefined();
    const base = `http://127.0.0.1:${rekick.http!.port}/`;
    expect((await fetch(`${base}healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}metrics`)).text()).toContain('# TYPE');
    expect(await (await fetch(base)).text()).toContain('buildarm-01');
    const r = await postToBot(`${base}slack/events`, SECRET, eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!whoami' }), 'application/json');
    expect(r.status).toBe(200);
    await until(() => rekick.store.listAudit().find((e) => e.action === '!whoami' && e.outcome === 'ok'), '!whoami from Slack');
    const bad = await postToBot(`${base}slack/events`, SECRET, eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!whoami' }), 'application/json', { secret: 'wrong' });
    expect(bad.status).toBe(401);
    expect(rekick.store.listAudit().filter((e) => e.action === 'slack-request')).toHaveLength(1);
  });
});
