/**
 * Secrets over a whole lab run (issue 7): a lab config holding every kind of secret rekick knows (an HTTP token,
 * an IRC SASL password and Slack tokens from ${ENV}, with the IRC and Slack adapters switched off), pino at debug
 * captured in memory, a full reinstall with approval and a few read commands, then a stop. None of the secrets
 * (nor the body of any private key: a builder's Koji key, rekick's SSH key, rekick's Koji client key) appears in
 * the logs, /metrics, /api/v1/*, the status page, the store file or any chat line, rendered or sent.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderEvent } from '../../src/present/event-lines';
import { loadConfig } from '../../src/config/load';
import { startLabPeers, type LabPeers } from '../../lab/run-lab';
import { createLogger } from '../../src/log';
import { createRekick, type Rekick } from '../../src/main';
import type { Identity } from '../../src/model';
import { FakeChat } from '../fakes/fake-chat';
import { until as waitUntil } from '../support/until';

const operator: Identity = { source: 'console', id: 'operator', display: 'operator' };
const ENV = {
  REKICK_IRC_PASSWORD: 'irc-sasl-pw-Qx7vLm2#Zr9',
  SLACK_BOT_TOKEN: 'xoxb-1111111111-2222222222-SeCrEtBoTtOkEn42',
  SLACK_SIGNING_SECRET: '8f14e45fceea167a5a36dedd4bea2543signing',
};
const HTTP_TOKEN = 'http-token-Vb8Kq2Ww5Yz1';

let peers: LabPeers;
let rekick: Rekick | undefined;
const logLines: string[] = [];
const chat = new FakeChat('console');
const rendered: string[] = [];

/** The base64 lines of a PEM or OpenSSH private key in `file` (a cert bundle's key only). */
function privateKeyBody(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const m = /-----BEGIN [A-Z ]*PRIVATE KEY-----\n([\s\S]*?)\n-----END [A-Z ]*PRIVATE KEY-----/.exec(text);
  if (!m) throw new Error(`no private key in ${file}`);
  return m[1]!.split('\n').filter((l) => l.length >= 16);
}

beforeAll(async () => {
  peers = await startLabPeers({ hosts: 2, fast: true });
  const yaml = parse(readFileSync(peers.configPath, 'utf8')) as Record<string, unknown>;
  yaml.http = { ...(yaml.http as object), token: HTTP_TOKEN };
  yaml.irc = { host: '127.0.0.1', port: 6667, nick: 'rekick', sasl: { account: 'rekick', password: '${REKICK_IRC_PASSWORD}' }, channels: ['#builders'] };
  yaml.slack = { signingSecret: '${SLACK_SIGNING_SECRET}', token: '${SLACK_BOT_TOKEN}', port: 0, channels: ['C0BUILDERS'] };
  yaml.timeouts = { drain: '10s', sshReturn: '10s', step: '10s' };
  writeFileSync(peers.configPath, stringify(yaml));
  const config = loadConfig(peers.configPath, { env: ENV });
  expect(config.irc?.sasl?.password).toBe(ENV.REKICK_IRC_PASSWORD); // the secrets are really in the running config
  expect(config.slack?.token).toBe(ENV.SLACK_BOT_TOKEN);
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => void logLines.push(s) } });
  log.debug({ config }, 'configuration loaded'); // what a careless debug line would log: redaction must hold
  rekick = await createRekick({ config, log, adapters: [chat], chat: { irc: false, slack: false } });
  rekick.executor.on((e) => rendered.push(...renderEvent(e)));
  await rekick.start();
}, 60_000);

afterAll(async () => {
  await rekick?.stop();
  await peers?.stop();
});

const until = (cond: () => boolean, what: string, ms = 30_000) => waitUntil(cond, what, ms, () => `channel:\n${chat.texts().join('\n')}`);

async function get(url: string, token: string | null = HTTP_TOKEN): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.text() };
}

describe('secrets over a whole lab run', () => {
  it('no secret from the config, nor any private key body, reaches logs, metrics, API, page, store or chat', async () => {
    const host = 'buildarm-01';
    await chat.say(operator, `!reinstall ${host}`);
    await until(() => chat.texts('#builders').some((l) => l.startsWith(`${host} is ready`)), 'the approval gate');
    await chat.say(operator, `!status ${host}`);
    await chat.say(operator, '!hosts');
    await chat.say(operator, `!approve ${host}`);
    await until(() => chat.texts('#builders').some((l) => l.includes('reinstall done')), 'the job to finish');

    const base = rekick!.http!.url.replace(/\/$/, '');
    const job = rekick!.store.listJobs().find((j) => j.host === host)!;
    expect(job.state).toBe('succeeded');
    const answers: Record<string, { status: number; body: string }> = {};
    for (const p of ['/', '/metrics', '/healthz', '/readyz', '/api/v1/hosts', '/api/v1/jobs', `/api/v1/jobs/${job.id}`, '/api/v1/rolling']) answers[p] = await get(base + p);
    answers['/api/v1/jobs (bad token)'] = await get(`${base}/api/v1/jobs`, 'wrong-token');
    answers['/ (no token)'] = await get(`${base}/`, null);
    expect(answers['/api/v1/jobs (bad token)']!.status).toBe(401);
    expect(answers['/ (no token)']!.status).toBe(401);
    for (const p of ['/', '/metrics', '/api/v1/hosts', '/api/v1/jobs', `/api/v1/jobs/${job.id}`, '/api/v1/rolling']) expect(answers[p]!.status, p).toBe(200);

    await rekick!.stop(); // shutdown logs (Koji logout) are part of the run
    rekick = undefined;
    const storeFile = readFileSync(path.join(peers.dir, 'var/rekick.json'), 'utf8');

    // Everything is really there to be searched: the run left its traces in each place.
    const logs = logLines.join('');
    expect(logs).toContain('"level":20'); // debug lines were captured
    expect(logs).toContain(host);
    expect(logs).toContain('[redacted]'); // the configuration line was logged, its secrets censored
    expect(answers['/metrics']!.body).toContain(host);
    expect(answers['/']!.body).toContain(host);
    expect(answers['/api/v1/jobs']!.body).toContain(job.id);
    expect(storeFile).toContain(job.id);
    const chatLines = [...chat.sent.map((s) => s.message.text), ...chat.sent.flatMap((s) => JSON.stringify(s.message)), ...rendered];
    expect(chatLines.some((l) => l.includes('reinstall done'))).toBe(true);
    expect(chatLines.some((l) => l.includes('!approve'))).toBe(true);

    const secrets: Record<string, string[]> = {
      'http.token': [HTTP_TOKEN],
      'irc.sasl.password': [ENV.REKICK_IRC_PASSWORD],
      'slack.token': [ENV.SLACK_BOT_TOKEN],
      'slack.signingSecret': [ENV.SLACK_SIGNING_SECRET],
      "builder's Koji key": privateKeyBody(path.join(peers.dir, `pki/builders/${host}.pem`)),
      "rekick's SSH private key": privateKeyBody(path.join(peers.dir, 'pki/id_ed25519')),
      "rekick's Koji client key": privateKeyBody(loadConfig(peers.configPath, { env: ENV }).koji.cert!),
    };
    for (const [what, values] of Object.entries(secrets)) expect(values.length, what).toBeGreaterThan(0);
    // the search itself can find a secret: the builder's key body really was copied onto the builder
    const onBuilder = peers.fleet.builders.get(host)!.machine.fs.get(`/etc/kojid/${host}.pem`);
    expect(onBuilder, 'post-install copied the Koji key').toBeDefined();
    expect(Buffer.from((onBuilder as { content: Buffer }).content).toString('utf8')).toContain(secrets["builder's Koji key"]![0]!);

    const places: Record<string, string> = {
      logs,
      store: storeFile,
      chat: chatLines.join('\n'),
      ...Object.fromEntries(Object.entries(answers).map(([p, a]) => [`http ${p}`, a.body])),
    };
    const leaks: string[] = [];
    for (const [place, text] of Object.entries(places)) {
      for (const [what, values] of Object.entries(secrets)) {
        if (values.some((v) => text.includes(v))) leaks.push(`${what} in ${place}`);
      }
    }
    expect(leaks).toEqual([]);
  }, 60_000);
});
