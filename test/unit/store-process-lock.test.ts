/**
 * The state file's lock (store/process-lock.ts): taken atomically, judged stale by boot id and process start time
 * as well as the pid, taken over by exactly one of several racing processes.
 */
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { judgeOwner, parseOwner, procProbe, type LockOwner, type ProcessProbe } from '../../store/lock-owner';
import { ProcessLock } from '../../store/process-lock';
import type { LockFs } from '../../store/lock-files';

const root = mkdtempSync(path.join(tmpdir(), 'rekick-lock-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const lockPath = () => {
  const dir = path.join(root, `d${n++}`);
  fs.mkdirSync(dir);
  return path.join(dir, 'rekick.json.lock');
};
const siblings = (file: string) => readdirSync(path.dirname(file));

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected an error');
}

const me = procProbe.self();
const parentStart = (procProbe.process(process.ppid) as { startTicks?: number }).startTicks;
const DEAD_PID = 999_999_999;
const record = (o: LockOwner) => `${o.pid}\n${JSON.stringify(o)}\n`;

describe('a lock left by a process that is gone is taken over', () => {
  it('this process has the pid of the dead one (PID 1 in a restarted container): a record from before the start-time field', () => {
    const file = lockPath();
    writeFileSync(file, `${process.pid}\n`); // as rekick wrote it before, with the same pid as ours
    const lock = new ProcessLock(file);
    lock.acquire();
    expect(parseOwner(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, startTicks: me.startTicks, bootId: me.bootId });
    lock.release();
    expect(siblings(file)).toEqual([]);
  });

  it('this process has the pid of the dead one, which started at another time', () => {
    const file = lockPath();
    writeFileSync(file, record({ pid: process.pid, bootId: me.bootId, startTicks: (me.startTicks ?? 0) + 12345, hostname: 'old', startedAt: '2026-12-07T01:02:00Z' }));
    const lock = new ProcessLock(file);
    lock.acquire();
    expect(parseOwner(readFileSync(file, 'utf8'))?.startTicks).toBe(me.startTicks);
    lock.release();
  });

  it('the holder ran before the machine last booted (boot id differs), even though its pid runs now', () => {
    const file = lockPath();
    writeFileSync(file, record({ pid: process.ppid, bootId: 'a-boot-before-this-one', startTicks: parentStart, startedAt: '2026-12-07T01:02:00Z' }));
    const lock = new ProcessLock(file);
    lock.acquire();
    expect(parseOwner(readFileSync(file, 'utf8'))?.pid).toBe(process.pid);
    lock.release();
  });

  it('the pid runs, but is another process (other start time)', () => {
    const file = lockPath();
    writeFileSync(file, record({ pid: process.ppid, bootId: me.bootId, startTicks: (parentStart ?? 0) + 1 }));
    const lock = new ProcessLock(file);
    lock.acquire();
    lock.release();
  });

  it('no process has the pid', () => {
    const file = lockPath();
    writeFileSync(file, record({ pid: DEAD_PID, bootId: me.bootId, startTicks: 5 }));
    const lock = new ProcessLock(file);
    lock.acquire();
    lock.release();
  });
});

describe('a lock that is held, or not a lock, is refused', () => {
  it('a live holder (same boot, same start time) is named: pid, start, host', () => {
    const file = lockPath();
    writeFileSync(file, record({ pid: process.ppid, bootId: me.bootId, startTicks: parentStart, hostname: 'rekick01', startedAt: '2026-12-07T01:02:03Z' }));
    const err = thrown(() => new ProcessLock(file).acquire());
    expect(err.code).toBe('E_STORE_LOCKED');
    expect(err.message).toBe(`another rekick (pid ${process.ppid}, started 2026-12-07 01:02 UTC, host rekick01) holds ${file}; stop it first`);
    expect(readFileSync(file, 'utf8')).toContain('rekick01'); // untouched
  });

  it('a lock file between its creation and its content (as another process left it mid-write before) is not taken over', () => {
    const file = lockPath();
    writeFileSync(file, ''); // created, pid not yet written: the other process believes it holds the lock
    const err = thrown(() => new ProcessLock(file).acquire());
    expect(err.code).toBe('E_STORE_LOCK');
    expect(err.message).toContain(`the lock file ${file} does not hold a rekick lock record (empty)`);
    expect(err.message).toContain(`rm ${file}`);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('unknown content is refused too, naming the file', () => {
    const file = lockPath();
    writeFileSync(file, '1234\n{not json\n');
    expect(thrown(() => new ProcessLock(file).acquire()).code).toBe('E_STORE_LOCK');
  });

  it('the same lock acquired twice in one process is an error, not a takeover', () => {
    const file = lockPath();
    const first = new ProcessLock(file);
    first.acquire();
    const err = thrown(() => new ProcessLock(file).acquire());
    expect(err.code).toBe('E_STORE_LOCKED');
    expect(err.message).toMatch(/^this process \(pid \d+, started .* UTC, host .*\) already holds/);
    expect(thrown(() => first.acquire()).code).toBe('E_STORE_LOCK');
    first.release();
    expect(siblings(file)).toEqual([]);
  });

  it('release removes only its own record', () => {
    const file = lockPath();
    const lock = new ProcessLock(file);
    lock.acquire();
    writeFileSync(file, record({ pid: DEAD_PID })); // replaced behind its back
    lock.release();
    expect(readFileSync(file, 'utf8')).toContain(String(DEAD_PID));
  });
});

describe('without /proc (not Linux): judged by the pid alone', () => {
  const probe = (running: number[]): ProcessProbe => ({
    self: () => ({ pid: 10 }),
    process: (pid) => ({ running: running.includes(pid) }),
  });
  it.each([
    ['another live pid', { pid: 20 }, [20], false, 'held'],
    ['a dead pid', { pid: 30 }, [20], false, 'stale'],
    ['our pid, not held here (a restart with the same pid)', { pid: 10 }, [], false, 'stale'],
    ['our pid, held here', { pid: 10 }, [], true, 'self'],
  ] as const)('%s', (_what, owner, running, heldHere, state) => {
    expect(judgeOwner(owner, { pid: 10 }, probe([...running]), heldHere).state).toBe(state);
  });
});

/**
 * Two acquirers in one test process, each with an identity of its own (fake probe), interleaved at chosen points
 * by a file layer that runs the other acquirer there.
 */
describe('racing on a stale lock: exactly one wins, whatever the interleaving', () => {
  const probeFor = (pid: number, alive: Set<number>): ProcessProbe => ({
    self: () => ({ pid, bootId: 'boot', startTicks: pid * 10, hostname: `h${pid}`, startedAt: '2026-12-07T01:02:00Z' }),
    process: (p) => (alive.has(p) ? { running: true, startTicks: p * 10 } : { running: false }),
  });
  /** A file layer that calls `at()` once, just before the first call of `op` matching `match`. */
  const pausing = (op: 'linkSync' | 'renameSync' | 'readFileSync', match: (p: string) => boolean, at: () => void): LockFs => {
    let done = false;
    return new Proxy(fs, {
      get(target, prop) {
        const real = (target as unknown as Record<string | symbol, unknown>)[prop];
        if (prop !== op || typeof real !== 'function') return real;
        return (...args: unknown[]) => {
          const target = String(args[op === 'readFileSync' ? 0 : 1]);
          if (!done && match(target)) {
            done = true;
            at();
          }
          return (real as (...a: unknown[]) => unknown)(...args);
        };
      },
    }) as LockFs;
  };

  const cases: Array<[string, 'linkSync' | 'renameSync' | 'readFileSync', (p: string) => boolean]> = [
    ['B runs while A has read the stale record', 'linkSync', (p) => p.includes('.takeover-')],
    ['B runs while A holds the takeover marker, before A replaces the lock', 'renameSync', (p) => p.endsWith('.lock')],
    ['B runs while A reads the lock before its takeover', 'readFileSync', (p) => p.endsWith('.lock')],
  ];
  it.each(cases)('%s', (_what, op, match) => {
    const file = lockPath();
    writeFileSync(file, record({ pid: 999, bootId: 'boot', startTicks: 9990 })); // its owner is gone
    const alive = new Set([1001, 1002]);
    const results: Record<string, string> = {};
    const attempt = (name: string, lock: ProcessLock) => {
      try {
        lock.acquire();
        results[name] = 'won';
      } catch (err) {
        results[name] = (err as { code: string }).code;
      }
    };
    const b = new ProcessLock(file, { probe: probeFor(1002, alive), sleep: () => undefined });
    const a = new ProcessLock(file, { probe: probeFor(1001, alive), sleep: () => undefined, fs: pausing(op, match, () => attempt('b', b)) });
    attempt('a', a);
    expect(Object.keys(results).sort()).toEqual(['a', 'b']); // B did run at that point
    expect(Object.values(results).filter((r) => r === 'won')).toHaveLength(1);
    const winner = results.a === 'won' ? 1001 : 1002;
    expect(parseOwner(readFileSync(file, 'utf8'))?.pid).toBe(winner);
    expect(siblings(file)).toEqual(['rekick.json.lock']); // no marker or temp file left
  });

  it('a takeover abandoned midway (its taker died holding the marker) does not block the next one', () => {
    const file = lockPath();
    writeFileSync(file, record({ pid: 999, bootId: 'boot', startTicks: 9990 }));
    const alive = new Set([1001, 1002]);
    const died = new Error('killed');
    // A dies after taking the marker, before replacing the lock: nothing of it is cleaned up.
    const dying = new Proxy(fs, {
      get(target, prop) {
        if (prop === 'renameSync') return () => {
          alive.delete(1001);
          throw died;
        };
        if (prop === 'unlinkSync') return (p: string) => (alive.has(1001) ? fs.unlinkSync(p) : undefined);
        return (target as unknown as Record<string | symbol, unknown>)[prop];
      },
    }) as LockFs;
    expect(() => new ProcessLock(file, { probe: probeFor(1001, alive), fs: dying }).acquire()).toThrow(died);
    expect(siblings(file).filter((f) => f.includes('.takeover-'))).toHaveLength(1);
    const b = new ProcessLock(file, { probe: probeFor(1002, alive) });
    b.acquire();
    expect(parseOwner(readFileSync(file, 'utf8'))?.pid).toBe(1002);
    expect(siblings(file).filter((f) => f.includes('.takeover-'))).toEqual([]);
  });
});
