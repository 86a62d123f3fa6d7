/**
 * Disarming in the lab (simulated builders over real SSH, the hub stand-in): `!cancel` of a bare-metal builder
 * after stage-installer armed its one-time installer entry leaves it booting its old system at its next ordinary
 * reboot (an admin's, a kernel update's), not the installer; the cancel line and the hub's comment say the
 * installer was disarmed. A builder that does not answer when its job fails is reported: COULD NOT DISARM, with
 * what to run, also as an error notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabPeers } from '../../lab/run-lab';
import type { Rekick } from '../../src/main';
import type { ExecutorEvent } from '../../src/model';
import { by, jobLines, origin, startLabRekick, stopLabRekick } from './helpers/lab-rekick';

let peers: LabPeers;
let rekick: Rekick;
const events: ExecutorEvent[] = [];
const K = '/boot/vmlinuz-rekick-installer';

beforeAll(async () => {
  ({ peers, rekick } = await startLabRekick({ hosts: 4, fast: true }, {
    events,
    edit: (raw) => {
      raw.timeouts = { drain: '1s', sshReturn: '4s', step: '15s' };
      raw.retry = { attempts: 1, backoff: '100ms', maxBackoff: '100ms' };
      raw.ssh = { ...(raw.ssh as object), connectTimeout: '2s' };
    },
  }));
}, 90_000);

afterAll(() => stopLabRekick({ peers, rekick }));

const lines = (jobId: string) => jobLines(events, jobId);

describe('disarming in the lab', () => {
  it('!cancel after stage-installer: the installer is disarmed, and an ordinary reboot boots the old system', async () => {
    const host = 'buildarm-01';
    const sim = peers.fleet.get(host)!;
    const oldKey = sim.hostKey.fingerprint;
    const installs = sim.installs;
    // `!cancel` as soon as the installer is armed (stage-installer done), before the reboot into it
    const off = rekick.executor.on((e) => {
      if (e.type === 'step-succeeded' && e.step === 'stage-installer' && e.job.host === host) void rekick.executor.cancel(host, { by, origin });
    });
    const [job] = await rekick.executor.reinstall({ hosts: [host], by, origin });
    await rekick.executor.idle();
    off();
    const done = rekick.store.getJob(job!.id)!;
    expect(done.state).toBe('cancelled');
    expect(done.steps[2]!.status).toBe('succeeded');
    expect(done.disarm).toMatchObject({ outcome: 'disarmed', detail: expect.stringContaining('next_entry rekick-installer unset') });
    const ran = (text: string) => sim.commands.some((c) => c.includes(text));
    expect(ran('grub2-editenv - unset next_entry') && ran(`grubby --remove-kernel='${K}'`)).toBe(true);
    expect(ran('systemctl reboot')).toBe(false);
    expect(sim.machine.nextEntry).toBeUndefined();
    expect(sim.machine.grubEntries.some((e) => e.kernel === K)).toBe(false);
    expect(sim.machine.fs.isFile(K)).toBe(false);

    expect(peers.hub.host(host)!.comment).toBe(`rekick: reinstall cancelled by console:operator at reinstall (job ${job!.id}); left disabled; installer disarmed`);
    expect(lines(job!.id)).toContainEqual(expect.stringMatching(new RegExp(`^${host} cancelled by operator at \\[4/8\\] reinstall — host left disabled in Koji \\(.*\\); installer disarmed: the next reboot boots the old system$`)));

    // an admin reboots the builder: its old system comes back, no install
    const booted = sim.waitForBoot();
    sim.requestReboot();
    await booted;
    expect(sim.installs).toBe(installs);
    expect(sim.hostKey.fingerprint).toBe(oldKey);
  }, 60_000);

  it('a failure while the host does not answer: COULD NOT DISARM on the line, in the comment and as an error notice', async () => {
    const host = 'buildarm-02';
    const sim = peers.fleet.get(host)!;
    // the reboot command fails and the host stops answering at once (its SSH refused), as a host that crashed
    const clearFail = sim.inject({ kind: 'fail', match: 'systemctl reboot', stderr: 'Failed to reboot: access denied' });
    let clearRefuse: (() => void) | undefined;
    const off = rekick.executor.on((e) => {
      if (e.type === 'step-started' && e.step === 'reinstall' && e.job.host === host) clearRefuse = sim.inject({ kind: 'refuse' });
    });
    const [job] = await rekick.executor.reinstall({ hosts: [host], by, origin });
    await rekick.executor.idle();
    off();
    clearFail();
    clearRefuse?.();
    const failed = rekick.store.getJob(job!.id)!;
    expect(failed.state).toBe('failed');
    expect(failed.disarm).toMatchObject({ outcome: 'failed', detail: expect.stringContaining('2 tries') });
    expect(sim.machine.nextEntry).toBe('rekick-installer'); // still armed: that is what the line warns of
    const byHand = 'grub2-editenv - unset next_entry; grubby --remove-kernel=/boot/vmlinuz-rekick-installer';
    expect(peers.hub.host(host)!.comment).toMatch(new RegExp(`; COULD NOT DISARM the installer: the next reboot reinstalls it — run on the host: ${byHand}$`));
    expect(lines(job!.id).join('\n')).toContain(`COULD NOT DISARM the installer (`);
    expect(events).toContainEqual(expect.objectContaining({ type: 'notice', level: 'error', text: expect.stringContaining(`${host} (job ${job!.id}, failed): COULD NOT DISARM`) }));
  }, 90_000);
});
