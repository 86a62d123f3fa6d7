/**
 * A real crash: a rekick process (lowdb state file, real executor, scripted steps) runs a rolling reinstall of
 * 10 hosts and is SIGKILLed mid-run; a second process on the same state file resumes the same run with the same
 * counts and order and finishes it, every host reinstalled once.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { LowdbStore } from '../../store/lowdb-store';
import { reconcileRun } from '../../src/rolling/reconcile';
import { renderCounts } from '../../src/present/rolling-lines';
import { tallyRun } from '../../src/rolling/tally';
import type { RollingRun } from '../../src/model';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'rekick-rolling-kill-'));
const file = path.join(dir, 'rekick.json');
const child = path.join(dir, 'rolling-child.mts');
const children = new Set<ReturnType<typeof spawn>>();

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

// The child process: one rekick with a rolling scheduler. It starts a run when the store holds none, else resumes.
const CHILD_SOURCE = `
import { createLogger } from '${ROOT}/src/log';
import { LowdbStore } from '${ROOT}/store/lowdb-store';
import { Executor } from '${ROOT}/src/executor/executor';
import { createRollingScheduler } from '${ROOT}/src/rolling/scheduler';
import { FakeKoji } from '${ROOT}/test/fakes/fake-koji';
import { ScriptedSteps } from '${ROOT}/test/fakes/fake-steps';
import { testConfig } from '${ROOT}/test/fakes/test-config';

const hosts = Array.from({ length: 10 }, (_, i) => ({ name: 'build-' + String(i + 1).padStart(2, '0'), kind: 'baremetal' }));
const config = testConfig({ rolling: { fraction: 0.3, autoApprove: true } }, hosts);
const log = createLogger({ level: 'silent', pretty: false });
const store = new LowdbStore(process.argv[2]);
await store.open();
const koji = new FakeKoji();
for (const h of config.hosts) koji.addHost(h.name, h.arch);
const scripted = new ScriptedSteps();
scripted.behaviour.set('reinstall', { kind: 'ok', delayMs: 40 });
const executor = new Executor({ config, store, koji, connector: {}, drivers: {}, log, steps: scripted.steps() });
const scheduler = createRollingScheduler({ executor, store, config, log, tickMs: 20 });
executor.on((e) => { if (e.type === 'notice') console.log('notice ' + e.text); });
const held = store.getRolling();
if (held) console.log('resumed ' + JSON.stringify(held));
// The scheduler first (it resumes the run as the store holds it), then the executor resumes the jobs.
await scheduler.activate();
await executor.start();
if (!held) await scheduler.start({ by: { source: 'cli', id: 'root', display: 'root' }, origin: { adapter: 'cli', room: 'cli' }, continuous: false });
let last = -1;
let lastActive = '';
for (;;) {
  const run = scheduler.current();
  if (run && run.done.length !== last) {
    last = run.done.length;
    console.log('done ' + last);
  }
  // Where the run stands with jobs in flight, said once it is in the state file (the parent kills on it).
  const active = store.peekJobs({ states: ['queued', 'running', 'awaiting-approval', 'enabling'] }).length;
  const now = (run ? run.done.length : 0) + ' ' + active;
  if (run && active > 0 && now !== lastActive) {
    lastActive = now;
    await store.whenIdle();
    console.log('in-flight ' + now);
  }
  if (run && run.state === 'finished') break;
  await new Promise((r) => setTimeout(r, 5));
}
await scheduler.close();
await executor.stop(1000);
await store.close();
console.log('finished');
`;

/** Kills the child once the state file holds `killAtDone` hosts done and jobs in flight. */
function runChild(killAtDone?: number): Promise<{ lines: string[]; signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', child, file], { cwd: ROOT, stdio: 'pipe' });
    children.add(c);
    const lines: string[] = [];
    let buf = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        const m = /^in-flight (\d+) \d+$/.exec(line);
        if (killAtDone !== undefined && m && Number(m[1]) >= killAtDone) c.kill('SIGKILL');
      }
    });
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code, signal) => {
      children.delete(c);
      resolve({ lines, signal, code, stderr });
    });
  });
}

/** The state file as it is, and the run as the store's jobs say it stands (what a restart must resume). */
async function readState() {
  const store = new LowdbStore(file, { lock: false });
  await store.open();
  try {
    const run = store.getRolling()!;
    const expected = structuredClone(run);
    reconcileRun(expected, store);
    return { run, jobs: store.listJobs(), expected, counts: renderCounts(expected, tallyRun(expected, store)) };
  } finally {
    await store.close();
  }
}

it('SIGKILL mid-run, then a new process resumes the same run with the same counts and finishes it', async () => {
  await writeFile(child, CHILD_SOURCE);
  const first = await runChild(3);
  expect(first.signal, first.stderr).toBe('SIGKILL');
  const killed = await readState();
  expect(killed.run.state).toBe('running');
  // The file may lag what the process printed (its last pass was cut short); the jobs in it say how far it got.
  expect(killed.expected.done.length).toBeGreaterThanOrEqual(1);
  expect(killed.expected.done.length).toBeLessThan(10);
  expect(killed.jobs.some((j) => ['queued', 'running', 'awaiting-approval', 'enabling'].includes(j.state))).toBe(true);

  const second = await runChild();
  expect(second.code, second.stderr).toBe(0);
  const resumedLine = second.lines.find((l) => l.startsWith('resumed '));
  expect(resumedLine).toBeDefined();
  const resumed = JSON.parse(resumedLine!.slice('resumed '.length)) as RollingRun;
  expect(resumed.id).toBe(killed.run.id);
  expect(resumed.order).toEqual(killed.run.order);
  expect(resumed.done).toEqual(killed.run.done);
  // Same counts: the new process says exactly what the killed one's state file holds.
  expect(second.lines).toContain(`notice rolling ${killed.run.id} resumed after a restart (running): ${killed.counts}`);
  const firstCount = Number(second.lines.find((l) => l.startsWith('done '))!.slice(5));
  expect(firstCount).toBe(killed.expected.done.length);
  expect(second.lines.at(-1)).toBe('finished');

  const end = await readState();
  expect(end.run.id).toBe(killed.run.id);
  expect(end.run.state).toBe('finished');
  expect([...end.run.done].sort()).toEqual(killed.run.order.slice().sort());
  // One job per host, all of this run: nothing started twice.
  expect(end.jobs.map((j) => j.host).sort()).toEqual(killed.run.order.slice().sort());
  expect(end.jobs.every((j) => j.options.rollingRunId === killed.run.id && j.state === 'succeeded')).toBe(true);
  for (const [host, id] of Object.entries(killed.run.jobs)) expect(end.run.jobs[host]).toBe(id);
});
