/**
 * 50 lab jobs at once, reported to a real inspircd with its DEFAULT flood class (threshold 10, one command a
 * second, fakelag on, recvq 10K) through createRekick: the bot is never disconnected for flooding, progress is
 * summarised, and every host's ready line (or failure line) arrives.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IrcAdapter } from '../../src/chat/irc/adapter';
import { loadConfig } from '../../src/config/load';
import { startLabPeers, type LabPeers } from '../../lab/run-lab';
import { createRekick, type Rekick } from '../../src/main';
import { connectIrcUser, startIrcNetwork, type IrcNetwork, type IrcUser } from './helpers/ircd';

const CHANNEL = '#builders';
const BOT = { account: 'rekick', password: 'flood-bot-pw' };
const KEVIN = { account: 'kevin', password: 'kevin-pw' };

let peers: LabPeers;
let net: IrcNetwork;
let rekick: Rekick;
let kevin: IrcUser;
let watcher: IrcUser;

beforeAll(async () => {
  // Default client class: no clientClass given.
  [peers, net] = await Promise.all([startLabPeers({ hosts: 50, fast: true }), startIrcNetwork({ accounts: [BOT, KEVIN] })]);
  const doc = parse(readFileSync(peers.configPath, 'utf8')) as Record<string, unknown>;
  doc.irc = { host: net.host, port: net.port, nick: 'rekick', sasl: BOT, channels: [CHANNEL] };
  doc.roles = { operator: ['irc:kevin'], approver: [] };
  writeFileSync(peers.configPath, stringify(doc));
  rekick = await createRekick({ config: loadConfig(peers.configPath, { env: {} }), log: pino({ level: 'silent' }) });
  await rekick.start();
  [kevin, watcher] = await Promise.all([
    connectIrcUser(net, { nick: 'kevin', sasl: KEVIN, channels: [CHANNEL] }),
    connectIrcUser(net, { nick: 'watcher', channels: [CHANNEL] }),
  ]);
}, 90_000);

afterAll(async () => {
  await kevin?.quit().catch(() => undefined);
  await watcher?.quit().catch(() => undefined);
  await rekick?.stop('tests done');
  await net?.stop();
  await peers?.stop();
});

describe('50 lab jobs at once in IRC', () => {
  it('no flood disconnect; every ready or failure line arrives; progress is summarised', async () => {
    const builders = rekick.config.hosts.filter((h) => h.kind !== 'virthost').map((h) => h.name);
    expect(builders).toHaveLength(50);
    kevin.say(CHANNEL, '!reinstall group:buildhw-aarch64 group:buildvm-x86');
    const irc = rekick.adapters.find((a) => a.name === 'irc') as IrcAdapter;
    const outcome = (host: string) => new RegExp(`^${host} (is ready \\(new system: [^)]*\\): !approve ${host}|\\[\\d/8\\] \\S+ failed:)`);
    const deadline = Date.now() + 150_000;
    const missing = () => builders.filter((h) => !watcher.seen.some((l) => l.nick === 'rekick' && outcome(h).test(l.message)));
    while (missing().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(missing(), `hosts whose ready/failure line never came; bot stats ${JSON.stringify(irc.stats())}`).toEqual([]);
    expect(rekick.store.listJobs({ limit: 500 }).filter((j) => builders.includes(j.host))).toHaveLength(50);
    const stats = irc.stats();
    expect(stats.registrations).toBe(1);
    expect(stats.disconnects).toBe(0);
    expect(stats.lastError ?? '').not.toMatch(/flood|recvq/i);
    expect(stats.summarised).toBeGreaterThan(0);
    // Each outcome line came once.
    for (const h of builders) expect(watcher.seen.filter((l) => l.nick === 'rekick' && outcome(h).test(l.message)), h).toHaveLength(1);
  }, 170_000);
});
