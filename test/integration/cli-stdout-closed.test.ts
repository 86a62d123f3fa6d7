/**
 * stdout closed under rekick (`rekick ... | head`, a pager that quits, the terminal gone): the job in flight goes
 * on to the approval gate and the process stays up. (The write error used to be an unhandled 'error' that ended
 * rekick mid-job, leaving the host disabled until the next start.) The lab, watched through its HTTP API.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../support/until';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const lab = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'bin/cli.ts'), 'lab', '--fast', '--hosts', '2'], {
  cwd: ROOT,
  stdio: ['pipe', 'pipe', 'pipe'],
  detached: true, // tsx runs rekick in a child: the group reaches both
});
let stderr = '';
lab.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
const exited = new Promise<number | null>((resolve) => lab.once('exit', (c) => resolve(c)));

afterAll(async () => {
  if (lab.exitCode === null && lab.signalCode === null) process.kill(-lab.pid!, 'SIGTERM');
  await exited;
});

describe('stdout closed', () => {
  it('a reinstall started after stdout closed reaches the approval gate; rekick stays up', async () => {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the lab did not come up:\n${out}\n${stderr}`)), 60_000);
      lab.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /status page: (\S+)/.exec(out);
        if (m && /you hold every role/.test(out)) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    lab.stdout.destroy(); // the reader goes away: rekick's next line to stdout meets EPIPE
    lab.stdin.write('!reinstall buildarm-01\n');
    let state = '';
    const poll = setInterval(() => {
      fetch(new URL('/api/v1/jobs?host=buildarm-01', url))
        .then((r) => r.json() as Promise<Array<{ state: string }>>)
        .then((jobs) => (state = jobs[0]?.state ?? ''))
        .catch(() => undefined);
    }, 200);
    await until(
      () => lab.exitCode !== null || state === 'awaiting-approval',
      'the job to reach the approval gate',
      60_000,
      () => `job state "${state}"; stderr:\n${stderr}`,
    );
    clearInterval(poll);
    expect(lab.exitCode, stderr).toBeNull();
    expect(state).toBe('awaiting-approval');
  }, 90_000);
});
