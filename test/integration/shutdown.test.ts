/**
 * Graceful shutdown on SIGTERM (issue 7): `rekick start --config LAB --console` as its own process, the lab's
 * peers (hub stand-in, simulated builders) in this one so the hub's calls can be read. A job is started and
 * SIGTERM arrives while a step runs (a post-install command that hangs): the process exits 0 within the grace
 * period, logs out of Koji (the hub records the `logout`), leaves a valid state file with the job still active at
 * that step, and the next start resumes the job to the approval gate and, approved, to the end. With IRC
 * configured (a real inspircd), another client in the channel sees rekick QUIT with "rekick stopping (SIGTERM)".
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startLabPeers, type LabPeers } from '../../lab/run-lab';
import type { Job } from '../../src/model';
import { LowdbStore } from '../../store/lowdb-store';
import { connectIrcUser, startIrcNetwork } from './helpers/ircd';
import { RekickProcess } from './helpers/lab-process';

const GRACE_MS = 10_000; // Executor.stop's default grace for a running step
let peers: LabPeers;
const bots: RekickProcess[] = [];

beforeAll(async () => {
  peers = await startLabPeers({ hosts: 2, fast: true });
  const yaml = parse(readFileSync(peers.configPath, 'utf8')) as Record<string, unknown>;
  yaml.timeouts = { drain: '10s', sshReturn: '10s', step: '30s' };
  writeFileSync(peers.configPath, stringify(yaml));
}, 60_000);

afterAll(async () => {
  await Promise.all(bots.map((b) => b.kill('SIGKILL')));
  await peers?.stop();
});

function bot(configPath = peers.configPath, env: Record<string, string> = {}): RekickProcess {
  const b = new RekickProcess(['start', '--config', configPath, '--console'], { REKICK_LOG_LEVEL: 'info', ...env });
  bots.push(b);
  return b;
}

const storePath = () => path.join(peers.dir, 'var/rekick.json');
const storeJobs = (): Job[] => (JSON.parse(readFileSync(storePath(), 'utf8')) as { jobs: Job[] }).jobs;
const calls = (method: string) => peers.hub.calls.filter((c) => c.method === method).length;

describe('graceful shutdown on SIGTERM', () => {
  it('mid-step: exits 0 within the grace period, logs out of Koji, leaves a valid state, and the job resumes on the next start', async () => {
    const host = 'buildarm-01';
    const clear = peers.fleet.builders.get(host)!.inject({ kind: 'hang', match: 'systemctl enable kojid', times: 1 });
    const first = bot();
    await first.waitFor(/rekick ready/i, 60_000);
    const logoutsBefore = calls('logout');
    first.send(`!reinstall ${host}`);
    await first.waitFor(new RegExp(`^${host} \\[6/8\\] post-install …`), 30_000);
    // the hung command is running now
    const deadline = Date.now() + 10_000;
    while (!peers.fleet.builders.get(host)!.commands.some((c) => c.includes('systemctl enable kojid'))) {
      if (Date.now() > deadline) throw new Error('the post-install command never started');
      await new Promise((r) => setTimeout(r, 20));
    }

    const sentAt = Date.now();
    first.child.kill('SIGTERM');
    const code = await first.exited;
    const tookMs = Date.now() - sentAt;
    expect(code, `stderr:\n${first.stderr.join('').slice(-2000)}`).toBe(0);
    expect(tookMs).toBeLessThan(GRACE_MS + 5_000);
    expect(calls('logout')).toBe(logoutsBefore + 1); // logged out of Koji on the way out
    const stderr = first.stderr.join('');
    expect(stderr).toMatch(/"why":"SIGTERM"/);

    // the state file is valid, and the job is still active at post-install (not failed, not lost)
    const store = new LowdbStore(storePath(), { lock: false });
    await store.open();
    await store.close();
    const stopped = storeJobs().find((j) => j.host === host)!;
    expect(stopped.state).toBe('running');
    expect(stopped.steps[stopped.current]!.name).toBe('post-install');
    expect(stopped.steps.slice(0, 5).every((s) => s.status === 'succeeded')).toBe(true);
    expect(peers.hub.host(host)).toMatchObject({ enabled: false });

    clear();
    const second = bot();
    await second.waitFor(/rekick ready/i, 60_000);
    await second.waitFor(new RegExp(`^${host} is ready \\(new system: [^)]*\\): !approve ${host}`), 60_000);
    second.send(`!approve ${host}`);
    await second.waitFor(new RegExp(`^${host} is enabled in Koji — reinstall done`), 30_000);
    const done = storeJobs().find((j) => j.host === host)!;
    expect(done.id).toBe(stopped.id); // the same job, resumed
    expect(done.state).toBe('succeeded');
    expect(peers.hub.host(host)).toMatchObject({ enabled: true });
    const logoutsAtEnd = calls('logout');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(calls('logout')).toBe(logoutsAtEnd + 1);
  }, 60_000);

  it('on IRC: leaves with a QUIT message another client sees', async () => {
    const net = await startIrcNetwork({ accounts: [{ account: 'rekick', password: 'quit-test-pw' }] });
    try {
      const yaml = parse(readFileSync(peers.configPath, 'utf8')) as Record<string, unknown>;
      yaml.irc = { host: net.host, port: net.port, nick: 'rekick', sasl: { account: 'rekick', password: '${REKICK_IRC_PASSWORD}' }, channels: ['#builders'] };
      yaml.store = './var/rekick-irc.json';
      const ircConfig = path.join(peers.dir, 'rekick-irc.yaml');
      writeFileSync(ircConfig, stringify(yaml));
      const watcher = await connectIrcUser(net, { nick: 'watcher', channels: ['#builders'] });
      const quits: Array<{ nick: string; message: string }> = [];
      const joined = new Promise<void>((resolve) =>
        watcher.client.on('join', (e: { nick: string }) => {
          if (e.nick === 'rekick') resolve();
        }),
      );
      watcher.client.on('quit', (e: { nick: string; message: string }) => quits.push({ nick: e.nick, message: e.message }));
      const b = bot(ircConfig, { REKICK_IRC_PASSWORD: 'quit-test-pw' });
      await b.waitFor(/rekick ready/i, 60_000);
      await joined;
      b.child.kill('SIGTERM');
      expect(await b.exited).toBe(0);
      const end = Date.now() + 10_000;
      while (!quits.some((q) => q.nick === 'rekick') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(quits.find((q) => q.nick === 'rekick')?.message).toMatch(/rekick stopping \(SIGTERM\)/);
      await watcher.quit();
    } finally {
      await net.stop();
    }
  }, 60_000);
});
