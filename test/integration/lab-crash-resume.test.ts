/**
 * SIGKILL rekick during each step in turn, start it again on the same state file: the job resumes at its step and
 * finishes; a pending approval survives a kill. The lab's peers (Koji hub stand-in and simulated builders) run in a
 * process of their own, so only rekick dies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_NAMES } from '../../src/types';
import { RekickProcess } from './helpers/lab-process';

const dir = mkdtempSync(path.join(tmpdir(), 'rekick-crash-'));
let peers: RekickProcess;
let configPath: string;
const bots: RekickProcess[] = [];

function bot(): RekickProcess {
  const b = new RekickProcess(['start', '--config', configPath, '--console']);
  bots.push(b);
  return b;
}

beforeAll(async () => {
  peers = new RekickProcess(['lab', '--peers-only', '--fast', '--hosts', '8', '--dir', dir]);
  const line = await peers.waitFor(/config: (\S+)/, 60_000);
  configPath = /config: (\S+)/.exec(line)![1]!;
}, 90_000);

afterAll(async () => {
  for (const b of bots) b.child.kill('SIGKILL');
  await peers?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe('a kill at any step', () => {
  // One host per step, so every kill lands in a fresh job at a known step.
  const hosts = ['buildarm-01', 'buildarm-02', 'buildarm-03', 'buildarm-04', 'buildvm-x86-01', 'buildvm-x86-02', 'buildvm-x86-03'];
  for (const [i, step] of STEP_NAMES.slice(0, 7).entries()) {
    it(`during ${step}: the job resumes after a restart and finishes`, async () => {
      const host = hosts[i]!;
      const first = bot();
      await first.waitFor(/rekick ready/i, 60_000);
      first.send(`!reinstall ${host}`);
      await first.waitFor(new RegExp(`${host} \\[${i + 1}/8\\] ${step}\\b(?! ✓)`), 60_000);
      await first.kill('SIGKILL');

      const second = bot();
      await second.waitFor(new RegExp(`${host} .*!approve ${host}`), 90_000);
      await second.kill('SIGKILL');

      // The pending approval survived the kill.
      const third = bot();
      await third.waitFor(/rekick ready/i, 60_000);
      third.send('!queue');
      await third.waitFor(new RegExp(`${host}`), 10_000);
      const mark = third.lines.length;
      third.send(`!approve ${host}`);
      await third.waitFor(new RegExp(`${host}.*enabled in Koji`, 'i'), 30_000, mark);
      expect(third.lines.slice(mark).join('\n')).toMatch(new RegExp(`${host} \\[8/8\\] enable ✓`));
      await third.end();
    }, 240_000);
  }
});
