/**
 * Drives a rekick process through its console (stdin/stdout), as a person at the lab terminal would: send a line,
 * wait for an output line matching a pattern. Used by the lab end-to-end and crash tests.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

export class RekickProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  private waiters: Array<{ re: RegExp; from: number; resolve: (l: string) => void }> = [];
  private buf = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(TSX, [path.join(ROOT, 'bin/cli.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, REKICK_LOG_LEVEL: process.env.REKICK_TEST_LOG_LEVEL ?? 'warn', ...env },
      stdio: 'pipe',
      // tsx runs rekick in a child of its own: a process group lets kill() reach both (SIGKILL cannot be relayed).
      detached: true,
    });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => this.onData(d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => this.stderr.push(d));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  private onData(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => {
        if (w.re.test(line)) {
          w.resolve(line);
          return false;
        }
        return true;
      });
    }
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Resolves with the first line (from `fromIndex` on, default: any line so far) matching `re`. */
  waitFor(re: RegExp, timeoutMs = 30_000, fromIndex = 0): Promise<string> {
    const seen = this.lines.slice(fromIndex).find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out waiting for ${re}; output so far:\n${this.lines.slice(-40).join('\n')}\nstderr:\n${this.stderr.join('').slice(-3000)}`));
      }, timeoutMs);
      const done = (l: string) => {
        clearTimeout(timer);
        resolve(l);
      };
      this.waiters.push({ re, from: fromIndex, resolve: done });
    });
  }

  /**
   * Signals tsx and rekick (their process group) while tsx runs, and closes rekick's console input (a rekick left
   * alone stops at its end); resolves when tsx has exited.
   */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(-this.child.pid!, signal);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // ESRCH: the group is gone already
      }
    }
    this.child.stdin.end();
    return this.exited;
  }

  async end(): Promise<void> {
    this.child.stdin.end();
    const t = setTimeout(() => void this.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}
