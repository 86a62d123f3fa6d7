/**
 * Child process of store-lock-processes.test.ts: a ProcessLock on the file named by argv[2], driven by lines on
 * stdin. `go` tries to take it and prints `won` or `lost CODE MESSAGE`; `release` releases it (if held) and prints
 * `released`. It prints `ready` first, and exits when stdin ends.
 */
import { createInterface } from 'node:readline';
import { ProcessLock } from '../../../store/process-lock';

const file = process.argv[2];
if (!file) throw new Error('usage: lock-child.ts LOCKFILE');

let lock = new ProcessLock(file);
let held = false;
const say = (line: string) => process.stdout.write(`${line}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'go') {
    try {
      lock.acquire();
      held = true;
      say('won');
    } catch (err) {
      const e = err as Error & { code?: string };
      say(`lost ${e.code ?? '?'} ${e.message.replace(/\n/g, ' ')}`);
    }
  } else if (line === 'release') {
    if (held) lock.release();
    held = false;
    lock = new ProcessLock(file);
    say('released');
  }
});
say(`ready ${process.pid}`);
