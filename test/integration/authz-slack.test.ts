/**
 * Slack requests at rekick's door, through the real createRekick wiring (lab peers, Slack Web API stand-in):
 * a bad signature, a stale timestamp and every kind of replay are refused (401), change nothing, and are counted
 * (rekick_outside_refusals_total) and logged with who and why at a limited rate, never stored one by one: a flood
 * of unsigned requests neither pushes a security action out of the audit trail nor costs a write of the state
 * file. A Slack retry of an event already taken is acknowledged and not acted on; a request from another
 * workspace than slack.teamId is acknowledged, counted (reason foreign-team) and not acted on. (What listens
 * where: http-exposure.test.ts.)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { startLabPeers, type LabPeers } from '../../lab/run-lab';
import type { SlackAdapter } from '../../src/chat/slack/adapter';
import { APPROVE_ACTION } from '../../src/chat/slack/blocks';
import { createRekick, type Rekick } from '../../src/main';
import type { LowdbStore } from '../../store/lowdb-store';
import { clickBody, eventBody, postToBot, slackSignature, slashBody, startSlackApi, type SlackApiStandIn } from './helpers/slack-api';

const SECRET = 'authz-slack-signing-secret';
const CHANNEL = 'C0BUILDERS';
let peers: LabPeers;
let api: SlackApiStandIn;
const running: Rekick[] = [];
/** What each rekick logged (pino JSON lines, parsed), by its name. */
const logged = new Map<Rekick, Array<Record<string, unknown>>>();

beforeAll(async () => {
  [peers, api] = await Promise.all([startLabPeers({ hosts: 2, fast: true }), startSlackApi()]);
}, 60_000);

afterAll(async () => {
  for (const r of running) await r.stop().catch(() => undefined);
  await api?.close();
  await peers?.stop();
});

/** The lab's config with a Slack section serving one workspace; `history` replaces the history section. */
async function startRekick(name: string, history?: Record<string, unknown>): Promise<Rekick> {
  const doc = parse(readFileSync(peers.configPath, 'utf8')) as Record<string, unknown>;
  doc.store = `./var/${name}.json`;
  doc.slack = { signingSecret: SECRET, token: 'xoxb-authz', host: '127.0.0.1', port: 0, teamId: 'T0REKICK', apiUrl: api.url, channels: [CHANNEL] };
  doc.roles = { operator: ['slack:U0KEVIN'], approver: ['slack:U0NIRIK'] };
  if (history) doc.history = history;
  const file = `${peers.dir}/${name}.yaml`;
  writeFileSync(file, stringify(doc));
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const rekick = await createRekick({ config: loadConfig(file, { env: {} }), log: pino({ level: 'warn' }, sink), chat: { irc: false } });
  running.push(rekick);
  logged.set(rekick, lines);
  await rekick.start();
  return rekick;
}

/** The log lines about refusals from outside of this source and reason. */
function outsideLines(rekick: Rekick, reason: string): Array<Record<string, unknown>> {
  return logged.get(rekick)!.filter((l) => l.source === 'slack' && l.reason === reason);
}

/** rekick_outside_refusals_total{source="slack",reason=...} as /metrics says it. */
async function refusedCount(rekick: Rekick, reason: string): Promise<number> {
  const text = await (await fetch(`${rekick.http!.url}metrics`)).text();
  const m = new RegExp(`^rekick_outside_refusals_total\\{source="slack",reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Texts rekick posted in the channel (its replies to events). */
function posted(pattern: RegExp): string[] {
  return api
    .callsOf('chat.postMessage')
    .map((c) => String(c.args.text ?? ''))
    .filter((t) => pattern.test(t));
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

describe('Slack requests: refused and counted', () => {
  let rekick: Rekick;
  let url: string;
  /** Nothing refused at the door is stored one by one: the refusal list holds none of it. */
  const stored = () => rekick.store.listAudit().filter((e) => e.action === 'slack-request');
  const ran = (action: string) => rekick.store.listAudit().filter((e) => e.action === action && e.outcome === 'ok');

  beforeAll(async () => {
    rekick = await startRekick('guarded');
    const slack = rekick.adapters.find((a) => a.name === 'slack') as SlackAdapter;
    url = `http://127.0.0.1:${slack.port()}/slack/events`;
  }, 30_000);

  it('a bad signature, a stale timestamp and no signature are refused, counted and logged with why, and nothing runs', async () => {
    const statusReplies = posted(/^no jobs|^buildarm/).length;
    const bad = await postToBot(url, SECRET, eventBody({ user: 'U0NIRIK', channel: CHANNEL, text: '!status' }), 'application/json', { secret: 'not-the-secret' });
    expect(bad.status).toBe(401);
    const stale = await postToBot(url, SECRET, eventBody({ user: 'U0NIRIK', channel: CHANNEL, text: '!status' }), 'application/json', { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(stale.status).toBe(401);
    const unsigned = await raw(url, eventBody({ user: 'U0NIRIK', channel: CHANNEL, text: '!status' }), { 'content-type': 'application/json' });
    expect(unsigned).toBe(401);
    expect(await refusedCount(rekick, 'bad-signature')).toBe(1);
    expect(await refusedCount(rekick, 'stale')).toBe(1);
    expect(await refusedCount(rekick, 'unsigned')).toBe(1);
    expect(await refusedCount(rekick, 'replay')).toBe(0);
    const [badLine] = outsideLines(rekick, 'bad-signature');
    expect(badLine!.detail).toMatch(/^bad signature/);
    // An unverified request's claimed user is not taken as who it was.
    expect(badLine!.who).toMatchObject({ source: 'slack', id: 'unverified', display: 'unverified request claiming U0NIRIK' });
    expect(badLine!.origin).toEqual({ adapter: 'slack', room: CHANNEL });
    expect(outsideLines(rekick, 'stale')[0]!.detail).toMatch(/^stale timestamp/);
    expect(outsideLines(rekick, 'unsigned')[0]!.detail).toMatch(/^unsigned request/);
    expect(stored()).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(posted(/^no jobs|^buildarm/)).toHaveLength(statusReplies);
  });

  it('the same signed request sent twice runs once; the replay is refused and counted with the user', async () => {
    const body = eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!status buildarm-01' });
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = { 'content-type': 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SECRET, Number(ts), body) };
    expect(await raw(url, body, headers)).toBe(200);
    expect(await raw(url, body, headers)).toBe(401);
    await until(() => posted(/buildarm-01 has no job yet/).length === 1 || undefined, '!status to run once');
    expect(await refusedCount(rekick, 'replay')).toBe(1);
    const replay = outsideLines(rekick, 'replay');
    expect(replay).toHaveLength(1);
    expect(replay[0]).toMatchObject({ who: { source: 'slack', id: 'U0KEVIN' } });
    expect(replay[0]!.detail).toMatch(/^replayed request \(same signature/);
    expect(stored()).toEqual([]);
  });

  it('the same event_id signed anew is refused; a Slack retry of it is acknowledged and not acted on', async () => {
    const before = await refusedCount(rekick, 'replay');
    const hostsReplies = () => posted(/^buildarm-01 \(/).length;
    const runsBefore = hostsReplies();
    const body = eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!hosts' });
    expect((await postToBot(url, SECRET, body, 'application/json')).status).toBe(200);
    await until(() => hostsReplies() === runsBefore + 1 || undefined, '!hosts to run');
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
    expect(hostsReplies()).toBe(runsBefore + 1);
    expect(await refusedCount(rekick, 'replay')).toBe(before + 1);
    // The first replay of the minute was logged (the previous test's); this one is counted, summed up later.
    expect(outsideLines(rekick, 'replay')).toHaveLength(1);
  });

  it('a slash command with a trigger_id already used is refused; the job is queued once', async () => {
    const before = await refusedCount(rekick, 'replay');
    const body = slashBody({ user: 'U0KEVIN', userName: 'kevin', channel: CHANNEL, text: 'reinstall buildarm-01', responseUrl: api.responseUrl('authz-s1') });
    expect((await postToBot(url, SECRET, body, 'application/x-www-form-urlencoded')).status).toBe(200);
    const resent = await postToBot(url, SECRET, body, 'application/x-www-form-urlencoded', { timestamp: Math.floor(Date.now() / 1000) + 2 });
    expect(resent.status).toBe(401);
    await until(() => ran('!reinstall').length === 1 || undefined, '!reinstall to run');
    await new Promise((r) => setTimeout(r, 200));
    expect(rekick.store.listJobs({ host: 'buildarm-01' })).toHaveLength(1);
    expect(ran('!reinstall')).toHaveLength(1);
    expect(ran('reinstall')).toEqual([expect.objectContaining({ who: expect.objectContaining({ source: 'slack', id: 'U0KEVIN' }), host: 'buildarm-01' })]);
    expect(await refusedCount(rekick, 'replay')).toBe(before + 1);
    expect(stored()).toEqual([]);
  });

  it('a slash command, an event and a click from another workspace are acknowledged, counted and not acted on', async () => {
    const before = await refusedCount(rekick, 'foreign-team');
    const form = 'application/x-www-form-urlencoded' as const;
    const slash = await postToBot(url, SECRET, slashBody({ user: 'U0KEVIN', userName: 'kevin', channel: CHANNEL, text: 'reinstall buildvm-x86-01', responseUrl: api.responseUrl('other-team-1'), team: 'T0OTHER' }), form);
    expect(slash.status).toBe(200);
    expect(slash.text).toMatch(/does not serve this workspace; nothing was done/);
    const event = await postToBot(url, SECRET, eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!reinstall buildvm-x86-01', team: 'T0OTHER' }), 'application/json');
    expect(event.status).toBe(200);
    const click = clickBody({ user: 'U0NIRIK', channel: CHANNEL, messageTs: '1700000000.000001', actionId: APPROVE_ACTION, value: 'buildvm-x86-01', responseUrl: api.responseUrl('other-team-2'), team: 'T0OTHER' });
    expect((await postToBot(url, SECRET, click, form)).status).toBe(200);
    // Counted under foreign-team (the guard's "other workspace: …" wording), the first logged with who and why.
    expect(await refusedCount(rekick, 'foreign-team')).toBe(before + 3);
    expect(await refusedCount(rekick, 'other')).toBe(0);
    const lines = outsideLines(rekick, 'foreign-team');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.detail).toMatch(/^other workspace: team T0OTHER, rekick serves T0REKICK \(slash_command /);
    expect(lines[0]).toMatchObject({ who: { source: 'slack', id: 'U0KEVIN' }, action: 'slack-request' });
    // Not stored one by one, and nothing acted on.
    expect(stored()).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(rekick.store.listJobs({ host: 'buildvm-x86-01' })).toEqual([]);
    expect(rekick.store.listAudit().filter((e) => e.host === 'buildvm-x86-01')).toEqual([]);
    expect(api.responses.filter((r) => r.id.startsWith('other-team'))).toEqual([]);
  });
});

describe('a flood of unsigned requests', () => {
  it('leaves the security actions in the audit trail, costs no write of the state file, and is counted and summed up', async () => {
    // The smallest audit trail the config allows (100 security actions): before, 150 refusals pushed an approval out.
    const rekick = await startRekick('flooded', { maxAudit: 100 });
    const slack = rekick.adapters.find((a) => a.name === 'slack') as SlackAdapter;
    const url = `http://127.0.0.1:${slack.port()}/slack/events`;
    const approve = { who: { source: 'slack' as const, id: 'U0NIRIK', display: 'nirik' }, origin: { adapter: 'slack', room: CHANNEL }, action: 'approve', host: 'buildarm-02', jobId: 'j-before-the-flood', outcome: 'ok' as const };
    await rekick.executor.audit(approve);
    const store = rekick.store as LowdbStore;
    await store.whenIdle();
    const writes = store.documentWrites;
    const onDisk = () => JSON.parse(readFileSync(store.file, 'utf8')) as { audit: Array<{ action: string; jobId?: string }> };
    const fileBefore = readFileSync(store.file, 'utf8');

    const FLOOD = 160;
    const body = (i: number) => eventBody({ user: 'U0NIRIK', channel: CHANNEL, text: `!approve buildarm-0${(i % 2) + 1}` });
    for (let i = 0; i < FLOOD; i += 20) {
      const statuses = await Promise.all(Array.from({ length: 20 }, (_, k) => raw(url, body(i + k), { 'content-type': 'application/json' })));
      expect(statuses.every((s) => s === 401)).toBe(true);
    }
    expect(await refusedCount(rekick, 'unsigned')).toBe(FLOOD);
    // The approval is still in the trail, in memory and on disk; the state file was not written at all.
    expect(rekick.store.listAudit().filter((e) => e.action === 'approve')).toEqual([expect.objectContaining({ jobId: 'j-before-the-flood' })]);
    expect(onDisk().audit.filter((e) => e.action === 'approve')).toEqual([expect.objectContaining({ jobId: 'j-before-the-flood' })]);
    await store.whenIdle();
    expect(store.documentWrites).toBe(writes);
    expect(readFileSync(store.file, 'utf8')).toBe(fileBefore);
    // One log line for the flood so far (the first request), not one per request.
    expect(outsideLines(rekick, 'unsigned')).toHaveLength(1);
    expect(rekick.store.listAudit({ kind: 'refusals' })).toEqual([]);

    // Summed up (at the end of the minute, or at shutdown): one more log line, and one entry in the refusal list
    // that names no one and carries nothing the requests said.
    rekick.executor.outsideRefusals.flush();
    const sums = outsideLines(rekick, 'unsigned');
    expect(sums).toHaveLength(2);
    expect(sums[1]).toMatchObject({ count: FLOOD - 1 });
    expect(rekick.store.listAudit({ kind: 'refusals' })).toEqual([
      expect.objectContaining({ who: { source: 'slack', display: 'unidentified' }, action: 'slack-request', outcome: 'refused', count: FLOOD, detail: 'unsigned request (no signature or timestamp)' }),
    ]);
    expect(store.documentWrites).toBe(writes);
  }, 60_000);
});
