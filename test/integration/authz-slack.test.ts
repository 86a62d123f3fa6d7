/**
 * Slack requests at rekick's door, through the real createRekick wiring (lab peers, Slack Web API stand-in):
 * a bad signature, a stale timestamp and every kind of replay are refused (401), audited with who and why, and
 * change nothing; a Slack retry of an event already taken is acknowledged and not acted on; a request from
 * another workspace than slack.teamId is acknowledged, audited and not acted on. (What listens where:
 * http-exposure.test.ts.)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { startLabPeers, type LabPeers } from '../../src/lab/lab';
import type { SlackAdapter } from '../../src/chat/slack';
import { APPROVE_ACTION } from '../../src/chat/slack-render';
import { createRekick, type Rekick } from '../../src/main';
import { clickBody, eventBody, postToBot, slackSignature, slashBody, startSlackApi, type SlackApiStandIn } from './helpers/slack-api';

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

/** The lab's config with a Slack section serving one workspace. */
async function startRekick(name: string): Promise<Rekick> {
  const doc = parse(readFileSync(peers.configPath, 'utf8')) as Record<string, unknown>;
  doc.store = `./var/${name}.json`;
  doc.slack = { signingSecret: SECRET, token: 'xoxb-authz', host: '127.0.0.1', port: 0, teamId: 'T0REKICK', apiUrl: api.url, channels: [CHANNEL] };
  doc.roles = { operator: ['slack:U0KEVIN'], approver: ['slack:U0NIRIK'] };
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
    rekick = await startRekick('guarded');
    const slack = rekick.adapters.find((a) => a.name === 'slack') as SlackAdapter;
    url = `http://127.0.0.1:${slack.port()}/slack/events`;
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

  it('a slash command, an event and a click from another workspace are acknowledged, audited and not acted on', async () => {
    const before = refusals().length;
    const form = 'application/x-www-form-urlencoded' as const;
    const slash = await postToBot(url, SECRET, slashBody({ user: 'U0KEVIN', userName: 'kevin', channel: CHANNEL, text: 'reinstall buildvm-x86-01', responseUrl: api.responseUrl('other-team-1'), team: 'T0OTHER' }), form);
    expect(slash.status).toBe(200);
    expect(slash.text).toMatch(/does not serve this workspace; nothing was done/);
    const event = await postToBot(url, SECRET, eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!reinstall buildvm-x86-01', team: 'T0OTHER' }), 'application/json');
    expect(event.status).toBe(200);
    const click = clickBody({ user: 'U0NIRIK', channel: CHANNEL, messageTs: '1700000000.000001', actionId: APPROVE_ACTION, value: 'buildvm-x86-01', responseUrl: api.responseUrl('other-team-2'), team: 'T0OTHER' });
    expect((await postToBot(url, SECRET, click, form)).status).toBe(200);
    const entries = await until(() => (refusals().length >= before + 3 ? refusals().slice(before) : undefined), 'three audited refusals');
    expect(entries.map((e) => e.detail)).toEqual([
      expect.stringMatching(/^other workspace: team T0OTHER, rekick serves T0REKICK \(slash_command /),
      expect.stringMatching(/^other workspace: team T0OTHER, rekick serves T0REKICK \(event_callback /),
      expect.stringMatching(/^other workspace: team T0OTHER, rekick serves T0REKICK \(block_actions /),
    ]);
    expect(entries[0]).toMatchObject({ who: { source: 'slack', id: 'U0KEVIN' }, action: 'slack-request', outcome: 'refused' });
    await new Promise((r) => setTimeout(r, 300));
    expect(rekick.store.listJobs({ host: 'buildvm-x86-01' })).toEqual([]);
    expect(rekick.store.listAudit().filter((e) => e.action !== 'slack-request' && e.host === 'buildvm-x86-01')).toEqual([]);
    expect(api.responses.filter((r) => r.id.startsWith('other-team'))).toEqual([]);
  });
});
