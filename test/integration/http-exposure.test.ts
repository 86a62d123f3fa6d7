/**
 * What rekick exposes, and where, through the real createRekick wiring (lab peers, Slack Web API stand-in):
 * Slack's public port serves /slack/events and nothing else, on every address; the status page, API and
 * metrics listen on http.host alone (127.0.0.1 by default, even with no `http:` section), so another loopback
 * address such as 127.a.b.c gets no connection there; a token from http.tokenFile guards them, the health
 * probes excepted.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SlackAdapter } from '../../src/chat/slack/adapter';
import { loadConfig } from '../../src/config/load';
import { startLabPeers, type LabPeers } from '../../lab/run-lab';
import { fleetLoopbackAddress } from '../../lab/loopback';
import { createRekick, type Rekick } from '../../src/main';
import { freePort } from '../support/free-port';
import { until } from '../support/until';
import { eventBody, postToBot, startSlackApi, type SlackApiStandIn } from './helpers/slack-api';

const SECRET = 'http-exposure-signing-secret';
const CHANNEL = 'C0BUILDERS';
const TOKEN = 'exposure-token-7Qm2Rx9Lw4Kd';
let peers: LabPeers;
let api: SlackApiStandIn;
/** Another loopback address than 127.0.0.1: reachable from this machine, and not where the status listener is. */
let other: string;
const running: Rekick[] = [];

beforeAll(async () => {
  [peers, api, other] = await Promise.all([startLabPeers({ hosts: 2, fast: true }), startSlackApi(), fleetLoopbackAddress()]);
  expect(other).not.toBe('127.0.0.1');
}, 60_000);

afterAll(async () => {
  for (const r of running) await r.stop().catch(() => undefined);
  await api?.close();
  await peers?.stop();
});

/** The lab's config with Slack on (host left to its default; port 0: the system's choice); `edit` changes the rest. */
async function startRekick(name: string, edit: (doc: Record<string, unknown>) => void, slackPort = 0): Promise<Rekick> {
  const rekick = await createRekickFor(name, edit, slackPort);
  await rekick.start();
  return rekick;
}

async function createRekickFor(name: string, edit: (doc: Record<string, unknown>) => void, slackPort = 0): Promise<Rekick> {
  const doc = parse(readFileSync(peers.configPath, 'utf8')) as Record<string, unknown>;
  doc.store = `./var/${name}.json`;
  doc.slack = { signingSecret: SECRET, token: 'xoxb-exposure', port: slackPort, apiUrl: api.url, channels: [CHANNEL] };
  doc.roles = { operator: ['slack:U0KEVIN'], approver: ['slack:U0NIRIK'] };
  edit(doc);
  const file = `${peers.dir}/${name}.yaml`;
  writeFileSync(file, stringify(doc));
  const rekick = await createRekick({ config: loadConfig(file, { env: {} }), log: pino({ level: 'silent' }), chat: { irc: false } });
  running.push(rekick);
  return rekick;
}

const slackPort = (rekick: Rekick) => (rekick.adapters.find((a) => a.name === 'slack') as SlackAdapter).port();

/** The status and body of a GET, or the connection error's code (ECONNREFUSED: nothing listens there). */
async function get(url: string, token?: string): Promise<{ status: number | string; body: string }> {
  try {
    const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return { status: cause?.code ?? String(err), body: '' };
  }
}

const PAGES = ['/', '/api/v1/jobs', '/api/v1/hosts', '/api/v1/rolling', '/metrics', '/healthz', '/readyz'];

describe('Slack on and no http: section (the contract example)', () => {
  let rekick: Rekick;
  let port: number;
  beforeAll(async () => {
    port = await freePort('0.0.0.0');
    rekick = await startRekick('contract', (doc) => delete doc.http, port);
  }, 30_000);

  it("Slack's port, on any address, serves /slack/events and nothing else", async () => {
    const base = `http://${other}:${port}`;
    for (const path of PAGES) {
      const r = await get(`${base}${path}`);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect(r.body).not.toMatch(/buildarm|rekick_|api\/v1|status page|healthz/);
    }
    // !whoami only reads, so it leaves no audit entry: its reply in the channel shows it ran.
    const whoamis = () => api.callsOf('chat.postMessage').filter((c) => /^you are .*slack:U0KEVIN/.test(String(c.args.text ?? ''))).length;
    const before = whoamis();
    const signed = await postToBot(`${base}/slack/events`, SECRET, eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!whoami' }), 'application/json');
    expect(signed.status).toBe(200);
    await until(() => whoamis() > before, '!whoami from Slack', 10_000);
    expect(slackPort(rekick)).toBe(port); // Slack's own listener
  });

  it('the status page, API and metrics listen on 127.0.0.1:8080 alone, without Slack', async () => {
    expect(rekick.config.http).toEqual({ enabled: true, host: '127.0.0.1', port: 8080 });
    expect(rekick.http!.url).toBe('http://127.0.0.1:8080/');
    expect((await get('http://127.0.0.1:8080/')).body).toContain('buildarm-01');
    expect((await get('http://127.0.0.1:8080/api/v1/jobs')).status).toBe(200);
    expect((await get('http://127.0.0.1:8080/metrics')).body).toContain('# TYPE');
    expect((await get('http://127.0.0.1:8080/slack/events')).status).toBe(404);
    for (const path of PAGES) expect({ path, status: (await get(`http://${other}:8080${path}`)).status }).toEqual({ path, status: 'ECONNREFUSED' });
  });
});

describe('the status listener on an address of its own', () => {
  it('http.host 127.0.0.1 with a chosen port: refused on another loopback address, while /slack/ answers there', async () => {
    const rekick = await startRekick('own-port', (doc) => {
      doc.http = { host: '127.0.0.1', port: 0 };
    });
    const port = rekick.http!.port;
    expect((await get(`http://127.0.0.1:${port}/api/v1/jobs`)).status).toBe(200);
    for (const path of PAGES) expect({ path, status: (await get(`http://${other}:${port}${path}`)).status }).toEqual({ path, status: 'ECONNREFUSED' });
    expect(slackPort(rekick)).not.toBe(port);
    expect((await get(`http://${other}:${slackPort(rekick)}/api/v1/jobs`)).status).toBe(404);
    const signed = await postToBot(`http://${other}:${slackPort(rekick)}/slack/events`, SECRET, eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!whoami' }), 'application/json');
    expect(signed.status).toBe(200);
  });

  it('http.enabled: false: no status listener at all, Slack still answers', async () => {
    const rekick = await startRekick('no-status', (doc) => {
      doc.http = { enabled: false };
    });
    expect(rekick.http).toBeUndefined();
    const signed = await postToBot(`http://127.0.0.1:${slackPort(rekick)}/slack/events`, SECRET, eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!whoami' }), 'application/json');
    expect(signed.status).toBe(200);
  });
});

describe('a token from http.tokenFile', () => {
  it('guards the page, API and metrics (401 without it or with another, 200 with it); the health probes stay open', async () => {
    const tokenFile = `${peers.dir}/http-token`;
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    const rekick = await startRekick('token-file', (doc) => {
      doc.http = { host: other, port: 0, tokenFile };
    });
    const base = `http://${other}:${rekick.http!.port}`;
    for (const path of ['/', '/api/v1/jobs', '/api/v1/hosts', '/metrics']) {
      expect({ path, status: (await get(`${base}${path}`)).status }).toEqual({ path, status: 401 });
      expect({ path, status: (await get(`${base}${path}`, 'exposure-token-not-this-one')).status }).toEqual({ path, status: 401 });
      expect({ path, status: (await get(`${base}${path}`, TOKEN)).status }).toEqual({ path, status: 200 });
    }
    expect((await get(`${base}/healthz`)).status).toBe(200);
    expect([200, 503]).toContain((await get(`${base}/readyz`)).status);
  });
});

describe('a listener that cannot open', () => {
  it("a Slack port already taken stops rekick at start with E_LISTEN naming slack.port, before any job resumes", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '0.0.0.0', () => r()));
    const { port } = taken.address() as { port: number };
    try {
      const rekick = await createRekickFor('slack-port-taken', (doc) => (doc.http = { port: 0 }), port);
      const resume = vi.spyOn(rekick.executor, 'start');
      await expect(rekick.start()).rejects.toMatchObject({
        code: 'E_LISTEN',
        message: `cannot listen on 0.0.0.0:${port} for Slack's receiver (EADDRINUSE): another program (or another rekick) has that port: set slack.port to a free one`,
      });
      expect(resume).not.toHaveBeenCalled();
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
