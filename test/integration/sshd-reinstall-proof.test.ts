/**
 * Proof of a reinstall and the pinned host key, through the real Executor, steps, drivers and Koji client against
 * real OpenSSH sshds (helpers/sshd.ts: each simulated host has its own host key and /etc/machine-id):
 * - the installer does not run (the host comes back with the same key and machine-id): the job fails at wait-ssh
 *   with the line that says so, the host stays disabled with that comment, no approval is asked, nothing is pushed;
 *   the same for a virt guest whose virt-install brings back its old system;
 * - the kickstart restores the host keys: the new machine-id is the proof, the job reaches the approval gate;
 * - the key accepted in wait-ssh is pinned: a host whose key changes before post-install, or before a `!retry` of
 *   post-install, fails with E_HOST_KEY_PINNED and gets no file (no secret).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEvent } from '../../src/present/event-lines';
import type { Config } from '../../src/config/schema';
import type { HubStandin } from '../../lab/koji-hub/hub-standin';
import type { KojiTestPki } from '../../lab/pki/koji-pki';
import { createSteps } from '../../src/steps';
import type { Step } from '../../src/steps/types';
import { testConfig } from '../fakes/test-config';
import type { SshdFleet } from './helpers/sshd';
import { startPipelineRig, startSshdKojiPeers, type PipelineRig, type SshdKojiPeers } from './helpers/sshd-koji-rig';

const SKIP = 'buildarm-71';
const KEEP = 'buildarm-72';
const SWAP = 'buildarm-73';
const RETRY = 'buildarm-74';
const VH = 'bvmhost-71';
const G = 'buildvm-71';
const BUILDERS = [SKIP, KEEP, SWAP, RETRY, G];

const kevin = { source: 'irc' as const, id: 'kevin', display: 'kevin' };
const origin = { adapter: 'irc', room: '#builders' };

let pki: KojiTestPki;
let hub: HubStandin;
let fleet: SshdFleet;
let local: string;
let peers: SshdKojiPeers;

beforeAll(async () => {
  peers = await startSshdKojiPeers(
    [
      { name: SKIP, kind: 'baremetal' },
      { name: KEEP, kind: 'baremetal' },
      { name: SWAP, kind: 'baremetal' },
      { name: RETRY, kind: 'baremetal' },
      { name: VH, kind: 'virthost' },
      { name: G, kind: 'virt' },
    ],
    BUILDERS,
  );
  ({ pki, hub, fleet, local } = peers);
  fleet.host(SKIP).install = 'skip';
  fleet.host(G).install = 'skip';
  fleet.host(KEEP).install = 'keep-host-key';
  for (const n of BUILDERS) if (n !== RETRY) writeFileSync(path.join(local, 'pki', `${n}.pem`), `-----BEGIN PRIVATE KEY-----\nsecret of ${n}\n-----END PRIVATE KEY-----\n`);
}, 60_000);

afterAll(async () => {
  await peers?.stop();
});

const secretOn = (host: string) => path.join(fleet.dir, 'fs', host, 'etc/pki/koji', `${host}.pem`);

function makeConfig(): Config {
  const addr = (n: string) => fleet.host(n).address;
  return testConfig(
    {
      store: ':memory:',
      koji: { server: hub.url, cert: pki.clients.rekick!.pemPath, serverca: pki.ca.certPath, pollInterval: '50ms' },
      ssh: { user: 'root', key: fleet.clientKeyPath, knownHosts: fleet.knownHostsPath, hostKeyPolicy: 'accept-new-after-reinstall', connectTimeout: '5s' },
      installer: {
        kernel: 'http://dl.example.org/f43/{arch}/vmlinuz',
        initrd: 'http://dl.example.org/f43/{arch}/initrd.img',
        kickstart: 'http://ks.example.org/{host}.ks',
        args: 'inst.repo=http://dl.example.org/f43/{arch}/os/',
        tree: 'http://dl.example.org/f43/{arch}/os/',
        virtArgs: '--memory 2048 --noautoconsole',
      },
      postinstall: {
        files: [{ dest: `${fleet.dir}/fs/{host}/etc/pki/koji/{host}.pem`, source: path.join(local, 'pki', '{host}.pem'), mode: '0600' }],
        commands: ['hostnamectl set-hostname {host}', 'systemctl enable kojid'],
        verify: ['systemctl is-active kojid'],
      },
      timeouts: { drain: '10s', sshReturn: '20s', step: '20s' },
      retry: { attempts: 2, backoff: '20ms', maxBackoff: '100ms' },
    },
    [
      ...[SKIP, KEEP, SWAP, RETRY].map((name) => ({ name, arch: 'aarch64', kind: 'baremetal', address: addr(name) })),
      { name: VH, kind: 'virthost', address: addr(VH) },
      { name: G, arch: 'x86_64', kind: 'virt', virthost: VH, address: addr(G) },
    ],
  );
}

type Rig = PipelineRig;

function rig(name: string, steps?: Step[]): Promise<Rig> {
  return startPipelineRig(makeConfig(), path.join(fleet.dir, 'state', `${name}.json`), pino({ level: 'silent' }), steps);
}

/** The host's key as ssh-keygen -lf prints it, from known_hosts (what an admin would see). */
function knownFingerprints(address: string): string[] {
  const out = execFileSync('ssh-keygen', ['-F', address, '-l', '-f', fleet.knownHostsPath], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => !l.startsWith('#') && l.trim())
    .map((l) => l.split(' ').find((w) => w.startsWith('SHA256:'))!);
}

const ran = (host: string, program: string) => fleet.calls(host).filter((c) => c[1] === program).map((c) => c.slice(1).join(' '));

async function newHostKeyNow(host: string): Promise<void> {
  const h = fleet.host(host);
  await h.stop();
  h.newHostKey();
  await h.start();
}

describe('proof that a host was reinstalled (real sshd)', () => {
  it('the installer does not run: same key and machine-id back, the job fails at wait-ssh saying so, host left disabled, no approval asked, nothing pushed', async () => {
    const r = await rig('skip');
    const h = fleet.host(SKIP);
    const oldFp = h.fingerprint();
    const [job] = await r.executor.reinstall({ hosts: [SKIP], by: kevin, origin });
    await r.executor.idle();
    const failed = r.store.getJob(job!.id)!;
    const line = `${SKIP} came back with its old system: same host key and machine-id — the installer did not run; check the grub default / the installer URLs`;
    expect(failed.state).toBe('failed');
    expect(failed.error).toEqual({ step: 'wait-ssh', code: 'E_NOT_REINSTALLED', message: line });
    // It really did reboot (into its old system), with the installer staged.
    expect(ran(SKIP, 'systemctl')).toEqual(['systemctl reboot']);
    expect(ran(SKIP, 'grub2-reboot')).toEqual(['grub2-reboot rekick-installer']);
    expect(h.fingerprint()).toBe(oldFp);
    // What was recorded before: the key it had and the machine-id it still has.
    expect(failed.before).toMatchObject({ hostKeys: [oldFp], machineId: h.machineId(), from: 'host' });
    expect(failed.before!.machineId).toMatch(/^[0-9a-f]{32}$/);
    expect(failed.proof).toBeUndefined();
    // Left disabled, with the line as the comment; no approval asked; nothing of post-install on the host.
    expect(hub.host(SKIP)).toMatchObject({ enabled: false });
    expect(hub.host(SKIP)!.comment).toContain(`rekick: reinstall failed at wait-ssh (job ${job!.id}): ${line}`);
    expect(r.events.some((e) => e.type === 'awaiting-approval')).toBe(false);
    expect(r.events.some((e) => e.type === 'host-key-changed')).toBe(false);
    expect(ran(SKIP, 'hostnamectl')).toEqual([]);
    expect(existsSync(secretOn(SKIP))).toBe(false);
    const failure = r.events.find((e) => e.type === 'step-failed')!;
    expect(renderEvent(failure)[0]).toContain(`${SKIP} [5/8] wait-ssh failed: ${line} — host left disabled in Koji`);
    await r.close();
  }, 60_000);

  it('a virt guest whose virt-install brings back its old system fails the same way, pointing at virt-install', async () => {
    const r = await rig('virt-skip');
    const [job] = await r.executor.reinstall({ hosts: [G], by: kevin, origin });
    await r.executor.idle();
    const failed = r.store.getJob(job!.id)!;
    expect(fleet.calls(VH).some((c) => c[1] === 'virt-install')).toBe(true);
    expect(failed.error).toMatchObject({ step: 'wait-ssh', code: 'E_NOT_REINSTALLED' });
    expect(failed.error!.message).toBe(
      `${G} came back with its old system: same host key and machine-id — the installer did not run; check installer.tree / installer.virtArgs`,
    );
    expect(hub.host(G)).toMatchObject({ enabled: false });
    expect(r.events.some((e) => e.type === 'awaiting-approval')).toBe(false);
    expect(existsSync(secretOn(G))).toBe(false);
    await r.close();
  }, 60_000);

  it('the kickstart restores the host key: the new machine-id is the proof; the job reaches the gate and says so', async () => {
    const r = await rig('keep');
    const h = fleet.host(KEEP);
    const oldFp = h.fingerprint();
    const [job] = await r.executor.reinstall({ hosts: [KEEP], by: kevin, origin });
    await r.executor.idle();
    const done = r.store.getJob(job!.id)!;
    expect(done.error).toBeUndefined();
    expect(done.state).toBe('awaiting-approval');
    expect(h.fingerprint()).toBe(oldFp);
    expect(done.proof).toMatchObject({ hostKey: { before: oldFp, after: oldFp }, changed: ['machine-id'] });
    expect(done.proof!.machineId.after).toBe(h.machineId());
    expect(done.proof!.machineId.before).not.toBe(done.proof!.machineId.after);
    expect(r.events.some((e) => e.type === 'host-key-changed')).toBe(false);
    const ready = r.events.find((e) => e.type === 'awaiting-approval')!;
    expect(renderEvent(ready)).toEqual([
      `${KEEP} is ready (new system: machine-id changed, host key kept): !approve ${KEEP} to enable it in Koji (or !deny ${KEEP} REASON)`,
    ]);
    expect(existsSync(secretOn(KEEP))).toBe(true);
    await r.close();
  }, 60_000);
});

describe('the host key accepted after the reinstall is pinned (real sshd)', () => {
  it('a key that changes again before post-install: the step fails with E_HOST_KEY_PINNED, nothing is written, no second key accepted', async () => {
    const steps = createSteps().map((s): Step => (s.name === 'post-install' ? { ...s, run: async (ctx) => (await newHostKeyNow(ctx.host.name), s.run(ctx)) } : s));
    const r = await rig('swap', steps);
    const h = fleet.host(SWAP);
    const [job] = await r.executor.reinstall({ hosts: [SWAP], by: kevin, origin });
    await r.executor.idle();
    const failed = r.store.getJob(job!.id)!;
    const accepted = failed.hostKey!.accepted;
    expect(failed.proof).toMatchObject({ hostKey: { after: accepted }, changed: ['host key', 'machine-id'] });
    expect(h.fingerprint()).not.toBe(accepted);
    expect(failed.error).toMatchObject({ step: 'post-install', code: 'E_HOST_KEY_PINNED' });
    expect(failed.error!.message).toContain(`presented host key ${h.fingerprint()}, not ${accepted}`);
    expect(r.events.filter((e) => e.type === 'host-key-changed')).toHaveLength(1);
    expect(knownFingerprints(h.address)).toEqual([accepted]);
    expect(existsSync(secretOn(SWAP))).toBe(false);
    expect(ran(SWAP, 'hostnamectl')).toEqual([]);
    expect(hub.host(SWAP)).toMatchObject({ enabled: false });
    await r.close();
  }, 60_000);

  it('a !retry of post-install later trusts only the recorded key: a host whose key changed meanwhile gets nothing', async () => {
    const r = await rig('retry');
    const h = fleet.host(RETRY);
    const [job] = await r.executor.reinstall({ hosts: [RETRY], by: kevin, origin });
    await r.executor.idle();
    // The builder's certificate was missing on the rekick machine: post-install failed before touching the host.
    const first = r.store.getJob(job!.id)!;
    expect(first.error).toMatchObject({ step: 'post-install', code: 'E_POSTINSTALL_FILE' });
    const accepted = first.hostKey!.accepted;
    expect(first.proof!.hostKey.after).toBe(accepted);

    // Days later: the certificate is there, and something else answers at the host's address with another key.
    writeFileSync(path.join(local, 'pki', `${RETRY}.pem`), `-----BEGIN PRIVATE KEY-----\nsecret of ${RETRY}\n-----END PRIVATE KEY-----\n`);
    await newHostKeyNow(RETRY);
    await r.executor.retry(RETRY, { by: kevin, origin });
    await r.executor.idle();
    const second = r.store.getJob(job!.id)!;
    expect(second.error).toMatchObject({ step: 'post-install', code: 'E_HOST_KEY_PINNED' });
    expect(existsSync(secretOn(RETRY))).toBe(false);
    expect(r.events.filter((e) => e.type === 'host-key-changed')).toHaveLength(1);
    expect(knownFingerprints(h.address)).toEqual([accepted]);
    expect(readFileSync(fleet.knownHostsPath, 'utf8')).not.toContain(h.publicKey());
    await r.close();
  }, 60_000);
});
