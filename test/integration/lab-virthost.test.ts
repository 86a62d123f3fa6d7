/**
 * `!reinstall` of the lab's virthost, end to end (simulated hosts over real SSH, the hub stand-in over HTTPS): its
 * three guests are disabled in the hub with a comment naming the virthost's job and drained (one has an open task)
 * before the virthost is touched; the virthost is reinstalled (and its fresh libvirt knows no guests); then each
 * guest is virt-installed anew on it and goes through post-install and verify to the approval gate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEvent } from '../../src/present/event-lines';
import type { LabPeers } from '../../lab/run-lab';
import type { Rekick } from '../../src/main';
import type { ExecutorEvent } from '../../src/model';
import { until } from '../support/until';
import { by, origin, startLabRekick, stopLabRekick } from './helpers/lab-rekick';

let peers: LabPeers;
let rekick: Rekick;
const events: ExecutorEvent[] = [];
const VH = 'bvmhost-x86-01';
const GUESTS = ['buildvm-x86-01', 'buildvm-x86-02', 'buildvm-x86-03'];

beforeAll(async () => {
  ({ peers, rekick } = await startLabRekick({ hosts: 6, fast: true }, { events })); // 3 bare metal, 3 guests on one virthost
}, 90_000);

afterAll(() => stopLabRekick({ peers, rekick }));

describe("the lab's virthost", () => {
  it('!reinstall of the virthost disables and drains its guests first, reinstalls it, then reinstalls each guest up to the approval gate', async () => {
    const { executor, store } = rekick;
    expect(rekick.config.hosts.filter((h) => h.virthost === VH).map((h) => h.name)).toEqual(GUESTS);
    const vh = peers.fleet.virthosts.get(VH)!;
    const guests = GUESTS.map((g) => peers.fleet.builders.get(g)!);
    const keys = guests.map((g) => g.hostKey.fingerprint);
    const task = peers.hub.createTask('buildvm-x86-02', { method: 'buildArch', state: 1 });

    const jobs = await executor.reinstall({ hosts: [VH], by, origin });
    expect(jobs.map((j) => j.host)).toEqual([VH, ...GUESTS]);
    const vhJob = jobs[0]!;
    const lines = () => events.flatMap((e) => renderEvent(e));

    // The virthost waits for buildvm-x86-02's task; its guests are out of Koji, each saying why.
    await until(() => lines().some((l) => l.includes(`${VH} [3/8] stage-installer: waiting for guests to drain: buildvm-x86-02 (`)), 'the virthost waiting for the drain', 30_000, () => lines().slice(-5).join('\n'));
    for (const g of GUESTS) {
      const hub = peers.hub.host(g)!;
      expect(hub.enabled).toBe(false);
      expect(hub.comment).toContain(`virthost ${VH} is being reinstalled (job ${vhJob.id}`);
    }
    expect(lines()).toContain(`${jobs[1]!.host} queued for reinstall by operator (job ${jobs[1]!.id}, its virthost ${VH} goes first (job ${vhJob.id}))`);
    expect(vh.boots).toBe(0);
    expect(guests.every((g) => g.state === 'up')).toBe(true);

    peers.hub.finishTask(task.id);
    // Each guest's "ready: !approve" line comes once it waits for approval.
    await until(() => GUESTS.every((g) => lines().some((l) => l.startsWith(`${g} is ready`) && l.includes(`!approve ${g}`))), 'every guest waiting for approval', 120_000, () =>
      JSON.stringify(store.listJobs({ limit: 4 }).map((j) => [j.host, j.state, j.error?.message])),
    );
    expect(store.getJob(vhJob.id)!.state).toBe('succeeded');
    expect(vh.installs).toBe(1);
    // Each guest was installed anew on the fresh virthost (its old domain was gone with the old libvirt).
    expect(vh.virtInstalls.map((v) => v.name).sort()).toEqual(GUESTS);
    guests.forEach((g, i) => {
      expect(g.installs).toBe(1);
      expect(g.hostKey.fingerprint).not.toBe(keys[i]);
    });
    for (const g of GUESTS) {
      const job = store.activeJob(g)!;
      expect(job.steps.slice(0, 7).every((s) => s.status === 'succeeded')).toBe(true);
      // virsh destroy/undefine on the fresh virthost: no such domain any more, which is fine.
      expect(job.steps[2]!.outputTail?.join('\n')).toContain(`failed to get domain '${g}'`);
      expect(lines()).toContain(`${g} [3/8] stage-installer: virthost ${VH} is back (job ${vhJob.id} succeeded): reinstalling ${g} on it`);
    }
    for (const g of GUESTS) expect(store.activeJob(g)!.state).toBe('awaiting-approval');

    await executor.approve(GUESTS, { by, origin });
    await executor.idle();
    for (const g of GUESTS) expect(peers.hub.host(g)!.enabled).toBe(true);
  }, 180_000);
});
