/**
 * The lab's peers (Koji hub stand-in + simulated fleet) in their own process, started as an operator would:
 * `rekick lab --peers-only --fast --hosts N --dir D`. The benchmark keeps rekick in its own process, so the CPU
 * time and memory it measures are rekick's alone, not the simulated builders'.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

export interface LabPeersProcess {
  configPath: string;
  pid: number;
  /** CPU seconds the peers' process used so far (user + system, from /proc). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export async function startLabPeersProcess(options: { hosts: number; dir: string; timeoutMs?: number }): Promise<LabPeersProcess> {
  const child = spawn(TSX, [path.join(ROOT, 'bin/cli.ts'), 'lab', '--peers-only', '--fast', '--hosts', String(options.hosts), '--dir', options.dir], {
    cwd: ROOT,
    env: { ...process.env, REKICK_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const configPath = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`rekick lab --peers-only did not print its config within ${options.timeoutMs ?? 180_000} ms`)), options.timeoutMs ?? 180_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\nstderr:\n${stderr}`));
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /config: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => fail(new Error(`rekick lab --peers-only exited (${code}) before it printed its config`)));
  });
  // tsx runs the lab in a child node process of its own: find it to read its CPU time.
  const pid = child.pid!;
  return {
    configPath,
    pid,
    cpuSeconds: () => treeCpuSeconds(pid),
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** user + system CPU seconds of a process and its descendants (Linux /proc; 0 elsewhere). */
export function treeCpuSeconds(root: number): number {
  const tick = 100; // USER_HZ on Linux
  const stats = new Map<number, { ppid: number; cpu: number }>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(e), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / tick });
    } catch {
      /* exited meanwhile */
    }
  }
  let total = 0;
  const walk = (pid: number) => {
    total += stats.get(pid)?.cpu ?? 0;
    for (const [p, s] of stats) if (s.ppid === pid) walk(p);
  };
  walk(root);
  return total;
}
