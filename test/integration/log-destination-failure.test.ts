/**
 * A log destination that fails does not stop rekick: with stderr on a full device (/dev/full: every write fails
 * with ENOSPC) a process logging through createLogger goes on and exits normally. (pino handles only EPIPE: the
 * error used to be unhandled, and pino's exit hook then retried the write forever.)
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'rekick-log-full-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('log destination failure', () => {
  it('stderr on a full device: logging stops, the process goes on and exits 0', async () => {
    const script = path.join(dir, 'log-to-full.ts');
    writeFileSync(
      script,
      `import { createLogger } from ${JSON.stringify(path.join(ROOT, 'src/log.ts'))};
const log = createLogger({ pretty: false, level: 'info' });
for (let i = 0; i < 5; i++) log.info({ i }, 'a line that cannot be written');
setTimeout(() => { log.info('later'); process.stdout.write('still working\\n'); }, 100);
`,
    );
    const full = openSync('/dev/full', 'w');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', full] });
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      clearTimeout(timer);
      expect(out).toBe('still working\n');
      expect(code).toBe(0);
    } finally {
      closeSync(full);
    }
  }, 20_000);
});
