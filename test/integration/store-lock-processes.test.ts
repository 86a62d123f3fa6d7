/**
 * The state file's lock between real processes: a live holder is refused by name, and of many processes racing
 * for the lock — free, or left stale by a dead owner — exactly one wins each time, leaving no stray file behind.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { procProbe } from '../../store/lock-owner';
import { ProcessLock } from '../../store/process-lock';
import { until } from '../support/until';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = path.join(ROOT, 'test/integration/helpers/lock-child.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'rekick-lock-procs-'));
const children: Child[] = [];
afterAll(() => {
  for (const c of children) c.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

class Child {
  readonly lines: string[] = [];
  pid = 0;
  readonly proc: ChildProcessWithoutNullStreams;
  constructor(file: string) {
    this.proc = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), [CHILD, file], { cwd: ROOT, stdio: 'pipe' });
    createInterface({ input: this.proc.stdout }).on('line', (l) => this.lines.push(l));
    children.push(this);
  }
  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
  }
  /** The next line after the first `from` lines. */
  async line(from: number, what: string): Promise<string> {
    await until(() => this.lines.length > from, what, 60_000, () => this.lines.join(' | '));
    return this.lines[from]!;
  }
}

async function startChildren(file: string, count: number): Promise<Child[]> {
  const started = Array.from({ length: count }, () => new Child(file));
  for (const c of started) c.pid = Number((await c.line(0, 'a child ready')).split(' ')[1]);
  return started;
}

describe('the lock between processes', () => {
  it('a live holder in another process is refused with its pid, start time and host named', async () => {
    const file = path.join(dir, 'held.json.lock');
    const [holder] = await startChildren(file, 1);
    holder!.send('go');
    expect(await holder!.line(1, 'the holder took it')).toBe('won');
    let err: (Error & { code?: string }) | undefined;
    try {
      new ProcessLock(file).acquire();
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err?.code).toBe('E_STORE_LOCKED');
    expect(err?.message).toMatch(new RegExp(`^another rekick \\(pid ${holder!.pid}, started \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC, host .+\\) holds ${file.replace(/[.]/g, '\\.')}; stop it first$`));
    holder!.send('release');
    expect(await holder!.line(2, 'released')).toBe('released');
    const mine = new ProcessLock(file);
    mine.acquire(); // free again
    mine.release();
  });

  it('many processes racing, for a free lock and for a stale one, round after round: exactly one wins each time', async () => {
    const file = path.join(dir, 'race.json.lock');
    const racers = await startChildren(file, 6);
    const bootId = procProbe.self().bootId;
    let seen = 1;
    for (let round = 0; round < 16; round++) {
      const stale = round % 2 === 1;
      if (stale) writeFileSync(file, `999999999\n${JSON.stringify({ pid: 999999999, bootId, startTicks: 1, hostname: 'gone' })}\n`);
      for (const c of racers) c.send('go');
      const answers = await Promise.all(racers.map((c) => c.line(seen, `round ${round}'s answer`)));
      const winners = racers.filter((_, i) => answers[i] === 'won');
      expect(winners.map((w) => w.pid), `round ${round} (${stale ? 'stale' : 'free'}): ${answers.join(' | ')}`).toHaveLength(1);
      for (const a of answers.filter((x) => x !== 'won')) expect(a).toMatch(/^lost E_STORE_LOCK(ED)? /);
      for (const c of racers) c.send('release');
      await Promise.all(racers.map((c) => c.line(seen + 1, 'released')));
      seen += 2;
      expect(readdirSync(dir).filter((f) => f.startsWith('race.'))).toEqual([]);
    }
  });
});
