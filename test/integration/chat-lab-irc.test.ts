/**
 * rekick as deployed, in IRC: the lab (Koji hub stand-in, simulated SSH builders) plus a real inspircd + atheme,
 * the config written to a file and loaded with the production loader, createRekick doing the wiring. The bot
 * logs in with SASL; kevin's !reinstall runs a lab job and the channel shows every step; nirik's nick without
 * nirik's account is refused; the real nirik's !approve enables the host in the hub. Then the IRC server is
 * restarted mid-job: the bot reconnects and the channel gets every line of the meantime, exactly once.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IrcAdapter } from '../../src/chat/irc/adapter';
import { loadConfig } from '../../src/config/load';
import { startLabPeers, type LabPeers } from '../../lab/run-lab';
import { createRekick, type Rekick } from '../../src/main';
import { STEP_NAMES } from '../../src/model';
import { connectIrcUser, startGate, startIrcNetwork, type Gate, type IrcNetwork, type IrcUser } from './helpers/ircd';

const CHANNEL = '#builders';
const BOT = { account: 'rekick', password: 'lab-bot-pw' };
const KEVIN = { account: 'kevin', password: 'kevin-pw' };
const NIRIK = { account: 'nirik', password: 'nirik-pw' };

let peers: LabPeers;
let net: IrcNetwork;
let gate: Gate;
let rekick: Rekick;
let kevin: IrcUser;
let watcher: IrcUser;
const users: IrcUser[] = [];

beforeAll(async () => {
  [peers, net] = await Promise.all([startLabPeers({ hosts: 6, fast: true }), startIrcNetwork({ accounts: [BOT, KEVIN, NIRIK] })]);
  // The bot reaches the server through a gate, so the test decides when it gets back in after a restart.
  gate = await startGate({ host: net.host, port: net.port });
  const doc = parse(readFileSync(peers.configPath, 'utf8')) as Record<string, unknown>;
  doc.irc = { host: net.host, port: gate.port, tls: false, nick: 'rekick', sasl: { account: BOT.account, password: '${LAB_IRC_PASSWORD}' }, channels: [CHANNEL] };
  doc.roles = { operator: ['irc:kevin'], approver: ['irc:nirik'] };
  writeFileSync(peers.configPath, stringify(doc));
  const config = loadConfig(peers.configPath, { env: { LAB_IRC_PASSWORD: BOT.password } });
  rekick = await createRekick({ config, log: pino({ level: 'silent' }) });
  await rekick.start();
  [kevin, watcher] = await Promise.all([
    connectIrcUser(net, { nick: 'kevin', sasl: KEVIN, channels: [CHANNEL] }),
    connectIrcUser(net, { nick: 'watcher', channels: [CHANNEL] }),
  ]);
  users.push(kevin, watcher);
}, 60_000);

afterAll(async () => {
  for (const u of users) await u.quit().catch(() => undefined);
  await rekick?.stop('tests done');
  await gate?.close();
  await net?.stop();
  await peers?.stop();
});

const irc = () => rekick.adapters.find((a) => a.name === 'irc') as IrcAdapter;
const botLines = (u: IrcUser) => u.seen.filter((l) => l.nick === 'rekick' && l.target === CHANNEL).map((l) => l.message);
const stepDone = (host: string, i: number) => new RegExp(`^${host} \\[${i + 1}/8\\] ${STEP_NAMES[i]} ✓`);

async function hubEnabled(host: string): Promise<boolean | undefined> {
  return (await rekick.koji.getHost(host))?.enabled;
}

describe('IRC against the lab', () => {
  it('the bot is logged in with SASL, in the channel', async () => {
    expect(irc().isReady()).toBe(true);
    expect(irc().stats().registrations).toBe(1);
    kevin.say(CHANNEL, '!whoami');
    // rekick sees kevin's account, and the bot's own login is what services report for it.
    await watcher.waitForLine((l) => l.nick === 'rekick' && /irc:kevin/.test(l.message) && /operator/.test(l.message));
    const own = await watcher.waitForLine((l) => l.nick === 'rekick');
    expect(own.account).toBe('rekick');
  });

  it("kevin's !reinstall runs a lab job; the channel shows all eight steps; a nick without the account is refused; nirik's !approve enables the host", async () => {
    kevin.say(CHANNEL, '!reinstall buildarm-03');
    for (let i = 0; i < 7; i++) await watcher.waitForLine((l) => l.nick === 'rekick' && stepDone('buildarm-03', i).test(l.message), 60_000);
    await watcher.waitForLine((l) => l.nick === 'rekick' && /buildarm-03 is ready \(new system: [^)]*\): !approve buildarm-03/.test(l.message), 30_000);
    expect(await hubEnabled('buildarm-03')).toBe(false);

    // Someone takes nirik's nick without nirik's account.
    const spoof = await connectIrcUser(net, { nick: 'nirik', channels: [CHANNEL] });
    users.push(spoof);
    spoof.say(CHANNEL, '!approve buildarm-03');
    const refusal = await watcher.waitForLine((l) => l.nick === 'rekick' && /!approve refused/.test(l.message));
    expect(refusal.message).toMatch(/approver/);
    await spoof.quit();
    expect(rekick.store.listJobs({ host: 'buildarm-03' })[0]!.state).toBe('awaiting-approval');
    expect(await hubEnabled('buildarm-03')).toBe(false);

    const nirik = await connectIrcUser(net, { nick: 'nirik', sasl: NIRIK, channels: [CHANNEL] });
    users.push(nirik);
    nirik.say(CHANNEL, '!approve buildarm-03');
    await watcher.waitForLine((l) => l.nick === 'rekick' && stepDone('buildarm-03', 7).test(l.message), 30_000);
    await watcher.waitForLine((l) => l.nick === 'rekick' && /buildarm-03 .*enabled in Koji/.test(l.message), 30_000);
    expect(await hubEnabled('buildarm-03')).toBe(true);
    // Each step handed its connection to the next where the host stayed up: one login before the reboot into the
    // installer, one after the install (post-install and its reboot), one after that reboot (verify). Not seven.
    expect(peers.fleet.get('buildarm-03')!.logins).toBe(3);
    const lines = botLines(watcher);
    for (let i = 0; i < 8; i++) expect(lines.some((l) => l.includes(`buildarm-03 [${i + 1}/8] ${STEP_NAMES[i]}`)), `step ${i + 1}`).toBe(true);
    // The spoofed nick has no account: its refusal is counted (and logged), not stored; nirik's approval is.
    const audit = rekick.store.listAudit().filter((e) => e.action === '!approve');
    expect(audit.map((e) => e.outcome)).toEqual(['ok']);
    expect(audit[0]!.who).toMatchObject({ source: 'irc', id: 'nirik' });
    expect(rekick.executor.outsideRefusals.counts()).toEqual([{ source: 'irc', reason: 'no-account', count: 1 }]);
  }, 120_000);

  it('the IRC server restarted mid-job: the bot reconnects and the channel gets every line of the meantime, once', async () => {
    const before = irc().stats().registrations;
    const mark = watcher.seen.length;
    kevin.say(CHANNEL, '!reinstall buildarm-02');
    await watcher.waitForLine((l) => l.nick === 'rekick' && stepDone('buildarm-02', 1).test(l.message), 60_000);
    gate.shut();
    await net.stopServer();
    // The job goes on while IRC is away.
    const job = rekick.store.listJobs({ host: 'buildarm-02' })[0]!;
    const deadline = Date.now() + 30_000;
    while (rekick.store.getJob(job.id)!.state !== 'awaiting-approval' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(rekick.store.getJob(job.id)!.state).toBe('awaiting-approval');
    await net.startServer();
    await Promise.all([watcher.reconnect(), kevin.reconnect()]);
    gate.open();
    await watcher.waitForLine((l) => l.nick === 'rekick' && /buildarm-02 is ready \(new system: [^)]*\): !approve buildarm-02/.test(l.message), 60_000);
    expect(irc().stats().registrations).toBeGreaterThan(before);

    const lines = watcher.seen.slice(mark).filter((l) => l.nick === 'rekick' && l.target === CHANNEL).map((l) => l.message);
    const about = lines.filter((l) => l.startsWith('buildarm-02 '));
    for (let i = 0; i < 7; i++) {
      expect(about.filter((l) => stepDone('buildarm-02', i).test(l)), `[${i + 1}/8] once in ${JSON.stringify(about)}`).toHaveLength(1);
    }
    expect(about.filter((l) => /is ready \(new system: [^)]*\): !approve buildarm-02/.test(l))).toHaveLength(1);
    expect(new Set(about).size).toBe(about.length);
  }, 120_000);
});
