/**
 * Who holds the state file's lock (pid, boot id, start time), how that record is written and read, and whether
 * that process still runs.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * The record names the process by more than its pid: the kernel's boot id and the process's start time (in clock
 * ticks since boot, from /proc/PID/stat), so a pid used again — PID 1 in a container restarted after SIGKILL or
 * OOM, or any pid after a reboot — is not mistaken for the holder. Without /proc (not Linux) only the pid is known
 * and judged.
 *
 * On disk: the pid alone on the first line (what `cat FILE.lock` shows, and what rekick before this record wrote
 * and still reads), then the record as one line of JSON.
 */
export interface LockOwner {
  pid: number;
  /** /proc/sys/kernel/random/boot_id: changes at every boot. */
  bootId?: string;
  /** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
  startTicks?: number;
  hostname?: string;
  /** When the lock was taken (ISO 8601). */
  startedAt?: string;
}

/** What runs with a pid: nothing (or a zombie), or a process (its start time when /proc shows it). */
export type RunningProcess = { running: false } | { running: true; startTicks?: number };

/** The machine as the lock sees it (tests pass their own). */
export interface ProcessProbe {
  self(): LockOwner;
  process(pid: number): RunningProcess;
}

function readProcStat(pid: number | 'self'): { state: string; startTicks: number } | undefined {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // pid (comm) state ...: comm may hold spaces and parentheses, so fields are counted after the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const startTicks = Number(fields[19]); // field 22 overall; fields[0] is field 3 (state)
  return Number.isSafeInteger(startTicks) ? { state: fields[0] ?? '', startTicks } : undefined;
}

function tryRead<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined; // no /proc (not Linux), or hidden: judged by the pid alone
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const procProbe: ProcessProbe = {
  self() {
    return {
      pid: process.pid,
      bootId: tryRead(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()) || undefined,
      startTicks: tryRead(() => readProcStat('self'))?.startTicks,
      hostname: hostname(),
      startedAt: new Date().toISOString(),
    };
  },
  process(pid) {
    if (!Number.isSafeInteger(pid) || pid <= 0) return { running: false };
    let stat;
    try {
      stat = readProcStat(pid);
    } catch {
      // no /proc entry: gone, or /proc is missing or hides other users' processes (hidepid); kill(0) decides
      return pidExists(pid) ? { running: true } : { running: false };
    }
    if (!stat) return { running: true };
    if (stat.state === 'Z' || stat.state === 'X') return { running: false }; // exited; only its parent has not reaped it
    return { running: true, startTicks: stat.startTicks };
  },
};

export function formatOwner(owner: LockOwner): string {
  return `${owner.pid}\n${JSON.stringify(owner)}\n`;
}

/** The record in a lock file's text, or undefined when the text is not one rekick writes. */
export function parseOwner(text: string): LockOwner | undefined {
  const [first, second, ...rest] = text.split('\n');
  if (!first || !/^[1-9][0-9]{0,9}$/.test(first.trim())) return undefined;
  const pid = Number(first.trim());
  if (!second?.trim()) return rest.some((l) => l.trim()) ? undefined : { pid }; // the pid alone: an older rekick's
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(second) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (r === null || typeof r !== 'object' || r.pid !== pid) return undefined;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return {
    pid,
    bootId: str(r.bootId),
    startTicks: Number.isSafeInteger(r.startTicks) ? (r.startTicks as number) : undefined,
    hostname: str(r.hostname),
    startedAt: str(r.startedAt),
  };
}

export type Verdict = { state: 'held' } | { state: 'self' } | { state: 'stale'; why: string };

/**
 * Whether the process named by `owner` still holds the lock. `heldHere` says whether this process holds it (for
 * when start times are unknown: a record with our pid that we do not hold is a previous process's).
 */
export function judgeOwner(owner: LockOwner, self: LockOwner, probe: ProcessProbe, heldHere: boolean): Verdict {
  if (owner.bootId && self.bootId && owner.bootId !== self.bootId) return { state: 'stale', why: 'taken before the machine last booted' };
  if (owner.pid === self.pid) {
    if (owner.startTicks !== undefined && self.startTicks !== undefined) {
      return owner.startTicks === self.startTicks ? { state: 'self' } : { state: 'stale', why: `pid ${owner.pid} is now this process` };
    }
    return heldHere ? { state: 'self' } : { state: 'stale', why: `pid ${owner.pid} is now this process` };
  }
  const p = probe.process(owner.pid);
  if (!p.running) return { state: 'stale', why: `no process ${owner.pid} runs` };
  if (owner.startTicks !== undefined && p.startTicks !== undefined && p.startTicks !== owner.startTicks) {
    return { state: 'stale', why: `pid ${owner.pid} is now another process` };
  }
  return { state: 'held' };
}

/** "pid 1234, started 2026-12-07 01:02 UTC, host rekick01" */
export function describeOwner(owner: LockOwner): string {
  const started = owner.startedAt && !Number.isNaN(Date.parse(owner.startedAt))
    ? `, started ${new Date(owner.startedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`
    : '';
  return `pid ${owner.pid}${started}${owner.hostname ? `, host ${owner.hostname}` : ''}`;
}
