/**
 * The crash matrix: rekick SIGKILLs itself at an exact durable transition of a job (during each step: just after
 * the step was recorded as running; between steps: just after one was recorded as done; at the approval gate;
 * just after an approval was recorded), then starts again on the same state file. Each time: the job resumes and
 * finishes, a pending approval survives, no host is enabled without an approval, no host is left disabled
 * without a job that says why, and the state file is valid. The lab's peers (Koji hub stand-in and simulated
 * builders) run in a process of their own, so only rekick dies.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { createKojiClient, type KojiXmlRpcClient } from '../../src/koji/client';
import { STEP_NAMES, type Job } from '../../src/model';
import { LowdbStore } from '../../store/lowdb-store';
import { RekickProcess } from './helpers/lab-process';

const dir = mkdtempSync(path.join(tmpdir(), 'rekick-crash-'));
let peers: RekickProcess;
let configPath: string;
let koji: KojiXmlRpcClient;
const bots: RekickProcess[] = [];

const KILL_POINTS = [
  ...STEP_NAMES.slice(0, 7).map((s) => `started:${s}`),
  ...STEP_NAMES.slice(0, 7).map((s) => `succeeded:${s}`),
  'awaiting-approval',
  'approved',
];

function bot(env: Record<string, string> = {}): RekickProcess {
  const b = new RekickProcess(['start', '--config', configPath, '--console'], env);
  bots.push(b);
  return b;
}

beforeAll(async () => {
  peers = new RekickProcess(['lab', '--peers-only', '--fast', '--hosts', String(KILL_POINTS.length), '--dir', dir]);
  const line = await peers.waitFor(/config: (\S+)/, 60_000);
  configPath = /config: (\S+)/.exec(line)![1]!;
  const config = loadConfig(configPath, { env: {} });
  koji = createKojiClient({ ...config.koji });
}, 90_000);

// A case that failed leaves its bot running, holding the state file's lock: stop it, so the next case starts clean.
afterEach(async () => {
  await Promise.all(bots.map((b) => b.kill('SIGKILL')));
});

afterAll(async () => {
  await Promise.all(bots.map((b) => b.kill('SIGKILL')));
  await koji?.close().catch(() => undefined);
  await peers?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

function storeJobs(): Job[] {
  return (JSON.parse(readFileSync(path.join(dir, 'var/rekick.json'), 'utf8')) as { jobs: Job[] }).jobs;
}

async function checkInvariants(): Promise<void> {
  const store = new LowdbStore(path.join(dir, 'var/rekick.json'), { lock: false });
  await store.open(); // the state file is valid
  await store.close();
  const jobs = storeJobs();
  const config = loadConfig(configPath, { env: {} });
  for (const h of config.hosts.filter((x) => x.kind !== 'virthost')) {
    const k = await koji.getHost(h.name);
    const mine = jobs.filter((j) => j.host === h.name);
    if (k && !k.enabled) {
      // disabled: a job says why, and its comment is the hub's
      expect(mine.some((j) => j.kojiComment === k.comment), `${h.name} disabled without a job saying why`).toBe(true);
    }
    for (const j of mine) {
      if (j.steps[7]!.status === 'succeeded') expect(j.approval, `${h.name} enabled without approval`).toBeTruthy();
    }
  }
}

describe('crash matrix', () => {
  const config = () => loadConfig(configPath, { env: {} });
  it.each(KILL_POINTS.map((p, i) => [p, i] as const))('killed at %s: resumes, finishes, loses nothing', async (point, i) => {
    const host = config().hosts.filter((h) => h.kind !== 'virthost')[i]!.name;
    const first = bot({ REKICK_TEST_KILL_AT: `${point}@${host}` });
    await first.waitFor(/rekick ready/i, 60_000);
    first.send(`!reinstall ${host}`);
    if (point === 'approved') {
      await first.waitFor(new RegExp(`!approve ${host}`), 90_000);
      first.send(`!approve ${host}`);
    }
    const code = await first.exited;
    expect([null, 137]).toContain(code); // killed by SIGKILL at the point (tsx reports its child's death as 137)

    const second = bot();
    await second.waitFor(/rekick ready/i, 60_000);
    if (point !== 'approved') {
      // The job resumes and reaches the approval gate (it may have been there before the kill): ask the queue.
      const deadline = Date.now() + 90_000;
      for (;;) {
        const mark = second.lines.length;
        second.send('!queue');
        const seen = await second.waitFor(new RegExp(`^\\d+\\. ${host} waiting`), 1_500, mark).catch(() => undefined);
        if (seen) break;
        if (Date.now() > deadline) throw new Error(`${host} never reached the approval queue:\n${second.lines.slice(-30).join('\n')}`);
      }
      expect((await koji.getHost(host))!.enabled).toBe(false);
      const mark = second.lines.length;
      second.send(`!approve ${host}`);
      await second.waitFor(new RegExp(`${host}.*enabled in Koji`, 'i'), 60_000, mark);
    } else {
      await second.waitFor(new RegExp(`${host}.*enabled in Koji`, 'i'), 60_000);
    }
    expect((await koji.getHost(host))!.enabled).toBe(true);
    const job = storeJobs().find((j) => j.host === host)!;
    expect(job.state).toBe('succeeded');
    expect(job.approval?.by.source).toBe('console');
    await second.end();
    await checkInvariants();
  }, 240_000);

  it('reports the number of kill points', () => {
    console.log(`crash matrix: ${KILL_POINTS.length} kill points (${KILL_POINTS.join(', ')})`);
    expect(KILL_POINTS.length).toBe(16);
  });
});
