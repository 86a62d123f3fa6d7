/**
 * The lab's `skip-install` fault (`rekick lab --fault skip-install:HOST`): a builder that boots its old system
 * instead of the installer (old host key, old /etc/machine-id). Its job fails at wait-ssh with the line that says
 * so, the host stays disabled in the hub stand-in with that line as its comment, and no approval is asked; a
 * builder beside it is reinstalled and its approval prompt names the proof. Then the same through the `rekick lab`
 * command, as a person at the lab terminal sees it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderJob } from '../../src/present/job-lines';
import { startLabPeers, type LabPeers } from '../../lab/run-lab';
import type { Rekick } from '../../src/main';
import type { ExecutorEvent } from '../../src/model';
import { RekickProcess } from './helpers/lab-process';
import { by, jobLines, origin, startLabRekick, stopLabRekick } from './helpers/lab-rekick';

describe('skip-install in the lab (in process)', () => {
  let peers: LabPeers;
  let rekick: Rekick;
  const events: ExecutorEvent[] = [];

  beforeAll(async () => {
    ({ peers, rekick } = await startLabRekick(
      { hosts: 4, fast: true, faults: ['skip-install:buildarm-02', 'skip-install:buildvm-x86-01'] },
      { events, edit: (raw) => void (raw.timeouts = { drain: '1s', sshReturn: '15s', step: '15s' }) },
    ));
  }, 90_000);

  afterAll(() => stopLabRekick({ peers, rekick }));

  const lines = (jobId: string) => jobLines(events, jobId);

  it.each([
    ['buildarm-02', 'check the grub default / the installer URLs'],
    ['buildvm-x86-01', 'check installer.tree / installer.virtArgs'],
  ])('%s boots its old system: fails at wait-ssh saying so, left disabled with that comment, no approval asked', async (host, check) => {
    const sim = peers.fleet.get(host)!;
    const oldKey = sim.hostKey.fingerprint;
    const oldId = sim.machine.fs.read('/etc/machine-id').toString().trim();
    const [job] = await rekick.executor.reinstall({ hosts: [host], by, origin });
    await rekick.executor.idle();
    const failed = rekick.store.getJob(job!.id)!;
    const line = `${host} came back with its old system: same host key and machine-id — the installer did not run; ${check}`;
    expect(failed.state).toBe('failed');
    expect(failed.error).toEqual({ step: 'wait-ssh', code: 'E_NOT_REINSTALLED', message: line });
    expect(sim.records.some((r) => r.command.includes('the installer did not run (fault skip-install)'))).toBe(true);
    expect(sim.hostKey.fingerprint).toBe(oldKey);
    expect(failed.before).toMatchObject({ hostKeys: [oldKey], machineId: oldId });

    const hub = peers.hub.host(host)!;
    expect(hub.enabled).toBe(false);
    // bare metal: the old system's stale installer entry was removed (disarmed); a virt guest has none
    const disarmed = host.startsWith('buildarm');
    expect(hub.comment).toBe(`rekick: reinstall failed at wait-ssh (job ${job!.id}): ${line}; left disabled${disarmed ? '; installer disarmed' : ''}`);
    expect(failed.disarm?.outcome).toBe(disarmed ? 'disarmed' : undefined);
    if (disarmed) expect(sim.machine.grubEntries.some((e) => e.title === 'rekick-installer')).toBe(false);
    expect(hub.comment).toContain('came back with its old system');
    const said = lines(job!.id);
    expect(said.some((l) => l.startsWith(`${host} [5/8] wait-ssh failed: ${line} — host left disabled`))).toBe(true);
    expect(said.some((l) => /is ready|!approve/.test(l))).toBe(false);
    expect(events.some((e) => e.type === 'awaiting-approval' && e.job.id === job!.id)).toBe(false);
    expect(renderJob(failed, new Date()).join('\n')).toContain(line);
  }, 60_000);

  it('a builder beside them is reinstalled, and its approval prompt names the proof', async () => {
    const [job] = await rekick.executor.reinstall({ hosts: ['buildarm-01'], by, origin });
    await rekick.executor.idle();
    const done = rekick.store.getJob(job!.id)!;
    expect(done.state).toBe('awaiting-approval');
    expect(done.proof).toMatchObject({ changed: ['host key', 'machine-id'], hostKey: { after: peers.fleet.get('buildarm-01')!.hostKey.fingerprint } });
    expect(lines(job!.id)).toContain(
      'buildarm-01 is ready (new system: host key and machine-id changed): !approve buildarm-01 to enable it in Koji (or !deny buildarm-01 REASON)',
    );
    // The API's job carries the proof.
    const api = (await (await fetch(new URL(`/api/v1/jobs/${job!.id}`, rekick.http!.url))).json()) as { proof?: unknown };
    expect(api.proof).toEqual(done.proof);
  }, 60_000);

  it('a --fault that names no lab host, or no known fault, is refused before anything starts', async () => {
    await expect(startLabPeers({ hosts: 2, fast: true, faults: ['skip-install:buildarm-09'] })).rejects.toMatchObject({
      code: 'E_USAGE',
      message: expect.stringMatching(/^--fault skip-install:buildarm-09: the lab has no host named buildarm-09/),
    });
    await expect(startLabPeers({ hosts: 2, fast: true, faults: ['melt:buildarm-01'] })).rejects.toMatchObject({
      code: 'E_USAGE',
      message: expect.stringMatching(/unknown fault "melt"; one of skip-install, no-return, refuse/),
    });
  });
});

describe('rekick lab --fault skip-install:HOST', () => {
  const lab = new RekickProcess(['lab', '--fast', '--hosts', '2', '--fault', 'skip-install:buildarm-01']);
  afterAll(() => lab.end());

  it('shows the fault at start, and the reinstall of that builder failing at wait-ssh instead of asking for approval', async () => {
    await lab.waitFor(/fault skip-install on buildarm-01/, 60_000);
    await lab.waitFor(/lab ready/i, 60_000);
    lab.send('!reinstall buildarm-01');
    const failed = await lab.waitFor(/buildarm-01 \[5\/8\] wait-ssh failed/, 60_000);
    expect(failed).toContain('buildarm-01 came back with its old system: same host key and machine-id — the installer did not run; check the grub default / the installer URLs');
    expect(failed).toContain('host left disabled in Koji');
    expect(lab.lines.some((l) => /buildarm-01 is ready/.test(l))).toBe(false);
  }, 90_000);
});
