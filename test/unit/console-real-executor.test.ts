/**
 * The console, router, commands and notifier against the real Executor (scripted steps, fake Koji): what an
 * operator in the lab sees from !reinstall to "enabled in Koji", and a failure with !retry.
 */
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import { createConsoleAdapter } from '../../src/chat/console';
import { createNotifier } from '../../src/chat/notifier';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import { Executor } from '../../src/executor/executor';
import { MemoryStore } from '../../store/memory-store';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';

async function lab() {
  const config = testConfig();
  const store = new MemoryStore();
  await store.open();
  const scripted = new ScriptedSteps();
  const log = pino({ level: 'silent' });
  const koji = new FakeKoji();
  for (const h of config.hosts) koji.addHost(h.name, h.arch);
  const executor = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log, steps: scripted.steps() });
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (d: Buffer) => (text += d.toString()));
  const adapter = createConsoleAdapter({ input, output, display: 'alice' });
  const router = createRouter({ executor, commands: commandRegistry, roles: createRoles(config.roles), log, audit: (e) => executor.audit(e), adapters: [adapter] });
  const notifier = createNotifier({ executor, adapters: [adapter], log });
  await adapter.start((m) => router.handle(m));
  const type = async (line: string) => {
    await router.handle({ origin: { adapter: 'console', room: '#lab' }, user: { source: 'console', id: 'operator', display: 'alice' }, text: line });
    await executor.idle();
    await notifier.flush();
  };
  return { executor, store, scripted, type, lines: () => text.split('\n').slice(0, -1), stop: () => adapter.stop() };
}

describe('lab console against the real executor', () => {
  it('reinstall, every step start and end named [N/8], ready, approve, enable, enabled in Koji', async () => {
    const l = await lab();
    await l.type('!reinstall buildarm-03');
    await l.type('!approve buildarm-03');
    const lines = l.lines();
    expect(lines[0]).toMatch(/^buildarm-03 queued for reinstall by alice \(job /);
    for (const [i, step] of ['disable', 'drain', 'stage-installer', 'reinstall', 'wait-ssh', 'post-install', 'reboot-verify', 'enable'].entries()) {
      expect(lines).toContain(`buildarm-03 [${i + 1}/8] ${step} …`);
      expect(lines.some((x) => x.startsWith(`buildarm-03 [${i + 1}/8] ${step} ✓ `))).toBe(true);
    }
    const ready = lines.indexOf('buildarm-03 is ready: !approve buildarm-03 to enable it in Koji (or !deny buildarm-03 REASON)');
    const approved = lines.indexOf('buildarm-03 approved by alice; enabling in Koji');
    expect(ready).toBeGreaterThan(0);
    expect(approved).toBeGreaterThan(ready);
    expect(lines.at(-1)).toMatch(/^buildarm-03 is enabled in Koji — reinstall done/);
    expect(l.store.listAudit().map((a) => `${a.action} ${a.outcome}`)).toEqual(expect.arrayContaining(['!reinstall ok', 'approve ok', '!approve ok']));
    await l.stop();
  });

  it('a failure names step, cause and state; !status shows it; !retry resumes from that step', async () => {
    const l = await lab();
    l.scripted.behaviour.set('stage-installer', { kind: 'fail', message: 'curl: (22) 404', tail: ['fetching vmlinuz', 'curl: (22) 404'] });
    await l.type('!reinstall buildarm-03');
    const failed = l.lines().find((x) => x.includes(' failed: '));
    expect(failed).toMatch(/^buildarm-03 \[3\/8\] stage-installer failed: curl: \(22\) 404 — host left disabled in Koji \("rekick: reinstall failed at stage-installer \(job [^)]+\): curl: \(22\) 404; left disabled"\); !retry buildarm-03 resumes from stage-installer$/);
    expect(l.lines()).toContain('  | curl: (22) 404');
    await l.type('!status buildarm-03');
    expect(l.lines()).toContainEqual(expect.stringMatching(/^  \[3\/8\] stage-installer ✗ failed \d+ms curl: \(22\) 404$/));
    l.scripted.behaviour.delete('stage-installer');
    await l.type('!retry buildarm-03');
    expect(l.lines()).toContain(`buildarm-03: retrying job ${l.store.listJobs()[0]!.id} from [3/8] stage-installer`);
    expect(l.lines().at(-1)).toBe('buildarm-03 is ready: !approve buildarm-03 to enable it in Koji (or !deny buildarm-03 REASON)');
    await l.stop();
  });
});
