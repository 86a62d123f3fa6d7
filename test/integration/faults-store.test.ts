/**
 * A full disk under the state file: the lowdb store on a real 512 KiB tmpfs that a filler file fills up (ENOSPC),
 * with the real executor, router, notifier and the real Koji steps (disable, drain, enable against FakeKoji; the
 * SSH steps scripted). While writes fail rekick says so in chat once, refuses new work with a clear one-line
 * refusal, and keeps the last durable state; once the disk has room again it says so, resumes the job that was
 * stopped, takes new work again, and the refusals made meanwhile (kept in memory, apart from the security
 * actions) are in the audit trail and reach the state file with the next write. A read-only command is not audited.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import { createNotifier } from '../../src/chat/notifier';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import { Executor } from '../../src/executor/executor';
import { disableStep } from '../../src/steps/disable';
import { drainStep } from '../../src/steps/drain';
import { enableStep } from '../../src/steps/enable';
import type { Step } from '../../src/steps/types';
import type { Identity } from '../../src/model';
import { LowdbStore } from '../../store/lowdb-store';
import { FakeChat } from '../fakes/fake-chat';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';
import { until as waitUntil } from '../support/until';

const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };
const nirik: Identity = { source: 'irc', id: 'nirik', display: 'nirik' };

let dir: string;
let mounted = false;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekick-fulldisk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'tmpfs', dir]);
  mounted = true;
});

afterAll(() => {
  if (mounted) execFileSync('umount', ['-l', dir]);
  rmSync(dir, { recursive: true, force: true });
});

/** Fills the file system until a write fails with ENOSPC; returns the filler's path. */
function fillDisk(): string {
  const filler = join(dir, 'filler');
  const chunk = Buffer.alloc(4096, 0x61);
  for (;;) {
    try {
      appendFileSync(filler, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return filler;
      throw err;
    }
  }
}

const until = (cond: () => boolean, what: string, ms = 10_000) => waitUntil(cond, what, ms);

/** A step that waits until the test opens its gate (the gate stays open afterwards). */
function gatedStep(inner: Step): Step & { open(): void; entered: number } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const step = {
    ...inner,
    entered: 0,
    open: () => open(),
    async run(ctx: Parameters<Step['run']>[0]) {
      step.entered++;
      await gate;
      return inner.run(ctx);
    },
  };
  return step;
}

describe('a full disk under the state file', () => {
  it('says so once, refuses new work, loses nothing, and takes work again once the disk has room', async () => {
    const file = join(dir, 'rekick.json');
    const log = pino({ level: 'silent' });
    const store = new LowdbStore(file, { log });
    await store.open();
    const config = testConfig({ koji: { server: 'https://127.0.0.1:1/kojihub', cert: '/nonexistent.pem', pollInterval: '20ms' } });
    const koji = new FakeKoji();
    for (const h of ['buildarm-01', 'buildarm-02', 'buildarm-03']) koji.addHost(h, 'aarch64');
    const scripted = new ScriptedSteps().steps();
    const stage = gatedStep(scripted[2]!);
    const steps = scripted.map((s, i) => (i === 0 ? disableStep : i === 1 ? drainStep : i === 2 ? stage : i === 7 ? enableStep : s));
    const executor = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log, steps, storeRetryMs: 50 });
    const chat = new FakeChat('irc');
    const router = createRouter({ executor, commands: commandRegistry, roles: createRoles(config.roles), log, audit: (e) => executor.audit(e), adapters: [chat] });
    const notifier = createNotifier({ executor, adapters: [chat], log });
    await chat.start((m) => router.handle(m));
    const lines = () => chat.texts('#builders');
    const errorNotices = () => lines().filter((l) => /^error: rekick cannot write its state file/.test(l));

    await chat.say(kevin, '!reinstall buildarm-01 --reason "kernel update"');
    await until(() => stage.entered === 1, 'stage-installer to start');
    const filler = fillDisk();
    stage.open();
    await until(() => errorNotices().length === 1, 'the error notice');
    await executor.idle();

    // New work is refused in one line; reading still works; the notice was said once only.
    const before = chat.sent.length;
    await chat.say(kevin, '!reinstall buildarm-02');
    await chat.say(nirik, '!approve all');
    await chat.say(kevin, '!status buildarm-01');
    await notifier.flush();
    const replies = chat.sent.slice(before).map((s) => s.message.text);
    expect(replies[0]).toMatch(/^!reinstall refused: rekick cannot write its state file right now, so it takes no new work/);
    expect(replies[1]).toMatch(/^!approve refused: /);
    expect(replies[2]).toMatch(/^buildarm-01 job \S+: running \[3\/8\] stage-installer/);
    expect(errorNotices()).toHaveLength(1);
    expect(errorNotices()[0]).toMatch(/takes no new work until that is fixed/);
    expect(koji.calls.filter((c) => c.startsWith('disableHost'))).toEqual(['disableHost("buildarm-01")']);

    // On disk: the last durable state (stage-installer running), nothing of buildarm-02.
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as { jobs: Array<{ host: string; state: string; current: number; steps: Array<{ status: string }> }> };
    expect(onDisk.jobs.map((j) => [j.host, j.state, j.current, j.steps[2]!.status])).toEqual([['buildarm-01', 'running', 2, 'running']]);

    // Room again: rekick notices by itself, says so, resumes the stopped job and takes new work.
    rmSync(filler);
    await until(() => lines().some((l) => /can write its state file again/.test(l)), 'the recovery notice');
    await until(() => lines().some((l) => l.startsWith('buildarm-01 is ready: !approve buildarm-01')), 'buildarm-01 to be ready');
    await chat.say(kevin, '!reinstall buildarm-02');
    await until(() => lines().some((l) => l.startsWith('buildarm-02 is ready')), 'buildarm-02 to be ready');
    await chat.say(nirik, '!approve buildarm-01 buildarm-02');
    await executor.idle();
    await notifier.flush();

    expect(errorNotices()).toHaveLength(1);
    expect(store.listJobs().map((j) => [j.host, j.state]).sort()).toEqual([
      ['buildarm-01', 'succeeded'],
      ['buildarm-02', 'succeeded'],
    ]);
    expect(koji.hosts.get('buildarm-01')).toMatchObject({ enabled: true, comment: expect.stringMatching(/enabled on approval of irc:nirik/) });
    // The security actions, in order; the refusals made while the disk was full apart from them, with who and why
    // (the read-only !status is not audited).
    const row = (e: { action: string; outcome: string; who: { id?: string }; host?: string }) => [e.action, e.outcome, e.who.id, e.host ?? ''];
    expect(store.listAudit({ kind: 'actions' }).map(row)).toEqual([
      ['reinstall', 'ok', 'kevin', 'buildarm-01'],
      ['!reinstall', 'ok', 'kevin', ''],
      ['reinstall', 'ok', 'kevin', 'buildarm-02'],
      ['!reinstall', 'ok', 'kevin', ''],
      ['approve', 'ok', 'nirik', 'buildarm-01'],
      ['approve', 'ok', 'nirik', 'buildarm-02'],
      ['!approve', 'ok', 'nirik', ''],
    ]);
    const refusals = store.listAudit({ kind: 'refusals' });
    expect(refusals.map(row)).toEqual([
      ['!reinstall', 'refused', 'kevin', ''],
      ['!approve', 'refused', 'nirik', ''],
    ]);
    expect(refusals[0]!.detail).toMatch(/cannot write its state file/);
    // Both reached the state file with a later write (they cost none of their own).
    const written = JSON.parse(readFileSync(file, 'utf8')) as { refusals?: Array<{ action: string }> };
    expect(written.refusals?.map((e) => e.action)).toEqual(['!reinstall', '!approve']);
    // What the channel saw, in order (progress lines of the resumed step included).
    const seen = lines().filter((l) => /^error|state file again|stage-installer|is ready|enabled in Koji/.test(l) && !l.startsWith('buildarm-02') && !l.includes(' job '));
    expect(seen).toEqual([
      'buildarm-01 [3/8] stage-installer …',
      expect.stringMatching(/^error: rekick cannot write its state file \(.*(ENOSPC|no space).*\); it takes no new work until that is fixed/i),
      'rekick can write its state file again; it takes new work.',
      'buildarm-01 [3/8] stage-installer …',
      expect.stringMatching(/^buildarm-01 \[3\/8\] stage-installer ✓/),
      'buildarm-01 is ready: !approve buildarm-01 to enable it in Koji (or !deny buildarm-01 REASON)',
      expect.stringMatching(/^buildarm-01 is enabled in Koji — reinstall done/),
    ]);
    notifier.stop();
    await executor.stop(100);
    await store.close();
  });
});
