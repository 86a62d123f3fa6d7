/**
 * SIGKILL at random moments while a process saves jobs in a tight loop: after every kill the state file still
 * parses, opens with the store, and holds every save the process saw resolve.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, expect, it } from 'vitest';
import { LowdbStore } from '../../store/lowdb-store';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = path.join(ROOT, 'test/integration/helpers/store-writer-child.ts');
const dir = await mkdtemp(path.join(tmpdir(), 'rekick-store-kill-'));
const file = path.join(dir, 'rekick.json');
const children = new Set<ReturnType<typeof spawn>>();

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  acked: Map<string, string>;
  lastAcked?: string;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the writer and SIGKILLs it `delayMs` after it is ready (or, when `duringStartup`, after spawning). */
function runAndKill(runNo: number, delayMs: number, duringStartup: boolean): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file, String(runNo)], { cwd: ROOT, stdio: 'pipe' });
    children.add(child);
    const acked = new Map<string, string>();
    let lastAcked: string | undefined;
    let buf = '';
    let stderr = '';
    const kill = () => setTimeout(() => child.kill('SIGKILL'), delayMs);
    if (duringStartup) kill();
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'ready' && !duringStartup) kill();
        const m = /^acked (\S+) (\S+)$/.exec(line);
        if (m) {
          acked.set(m[1]!, m[2]!);
          lastAcked = m[1]!;
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      children.delete(child);
      resolve({ acked, lastAcked, signal, stderr });
    });
  });
}

it('the state file survives 20 SIGKILLs during writes, holding every acknowledged save', async () => {
  let totalAcked = 0;
  for (let round = 0; round < 20; round++) {
    const duringStartup = round % 5 === 4;
    const delay = duringStartup ? Math.floor(Math.random() * 600) : 5 + Math.floor(Math.random() * 150);
    const outcome = await runAndKill(round, delay, duringStartup);
    expect(outcome.signal, `round ${round} ended by itself: ${outcome.stderr}`).toBe('SIGKILL');
    totalAcked += outcome.acked.size;

    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
    if (text === undefined) {
      // Killed before the file was first created: nothing was acknowledged either.
      expect(outcome.acked.size).toBe(0);
      continue;
    }
    expect(() => JSON.parse(text), `round ${round}: file does not parse`).not.toThrow();
    const store = new LowdbStore(file, { log: pino({ level: 'silent' }), keepFinishedPerHost: 5, maxAudit: 500 });
    await store.open();
    if (outcome.lastAcked) {
      // The newest job of its host is never compacted away: it must be there, as acknowledged.
      expect(store.getJob(outcome.lastAcked)?.state, `round ${round}: lost ${outcome.lastAcked}`).toBe(outcome.acked.get(outcome.lastAcked));
      expect(store.listAudit({ limit: 1000 }).some((e) => e.jobId === outcome.lastAcked)).toBe(true);
    }
    await store.close();
  }
  // The loop really was writing when it was killed.
  expect(totalAcked).toBeGreaterThan(20);
});
