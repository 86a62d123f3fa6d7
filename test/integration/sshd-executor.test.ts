/**
 * The whole pipeline through the real Executor with createSteps() (all eight real steps), the real Koji client
 * against the hub stand-in over HTTPS, createSshConnector and real OpenSSH sshds with the host-program doubles:
 * full bare-metal and virt reinstalls (disabled in the hub, exact program calls, new host key accepted and its
 * `ssh-keygen -lf` fingerprint posted, post-install files and modes, verify, enabled after approval); host-key
 * refusals (a key changed without a reinstall, any change under `strict`); a post-install step stopped mid-way and
 * resumed by a new executor on the same lowdb file; a hung command killed at its timeout; a non-zero exit with
 * its output tail; a cancel after stage-installer disarms the installer on the host; and no private key material in
 * logs, the store or chat.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEvent } from '../../src/present/event-lines';
import type { Config } from '../../src/config/schema';
import { INSTALLER_INITRD, INSTALLER_KERNEL } from '../../src/drivers/baremetal-grub';
import type { HubStandin } from '../../lab/koji-hub/hub-standin';
import type { KojiTestPki } from '../../lab/pki/koji-pki';
import { rebootHost } from '../../src/ssh/reboot';
import { sshConnectorFor } from '../../src/ssh/ssh-connector';
import { waitForSsh } from '../../src/ssh/wait-ssh';
import { createSteps } from '../../src/steps';
import type { ExecutorEvent, Job } from '../../src/model';
import { testConfig } from '../fakes/test-config';
import type { SshdFleet } from './helpers/sshd';
import { startPipelineRig, startSshdKojiPeers, type PipelineRig, type SshdKojiPeers } from './helpers/sshd-koji-rig';
import { fileTree } from '../support/file-tree';
import { until } from '../support/until';

const BM = 'buildarm-41';
const VH = 'bvmhost-41';
const G = 'buildvm-41';
const G2 = 'buildvm-42';
const KEYED = 'buildarm-42';
const STRICT = 'buildarm-43';
const RESUME = 'buildarm-44';
const FAIL = 'buildarm-45';
const CANCEL = 'buildarm-46';
const BUILDERS = [BM, G, G2, KEYED, STRICT, RESUME, FAIL, CANCEL];

const kevin = { source: 'irc' as const, id: 'kevin', display: 'kevin' };
const nirik = { source: 'irc' as const, id: 'nirik', display: 'nirik' };
const origin = { adapter: 'irc', room: '#builders' };

let pki: KojiTestPki;
let hub: HubStandin;
let fleet: SshdFleet;
let local: string;
/** Every log line of every executor, connector, Koji client and store in this file. */
const logLines: string[] = [];
const log = pino({ level: 'trace' }, { write: (s: string) => logLines.push(s) });
/** Every event of every executor in this file. */
const allEvents: ExecutorEvent[] = [];
const storeFiles = new Set<string>();

let peers: SshdKojiPeers;

beforeAll(async () => {
  peers = await startSshdKojiPeers(
    [
      { name: BM, kind: 'baremetal' },
      { name: VH, kind: 'virthost' },
      { name: G, kind: 'virt' },
      { name: G2, kind: 'virt' },
      { name: KEYED, kind: 'baremetal' },
      { name: STRICT, kind: 'baremetal' },
      { name: RESUME, kind: 'baremetal' },
      { name: FAIL, kind: 'baremetal' },
      { name: CANCEL, kind: 'baremetal' },
    ],
    BUILDERS,
  );
  ({ pki, hub, fleet, local } = peers);
  writeFileSync(path.join(local, 'kojid.conf'), '[kojid]\nhost = {host}\narch = {arch}\naddress = {address}\n');
  // Each builder's own Koji client key: real RSA keys, several PEM lines each.
  for (const n of BUILDERS) {
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path.join(local, 'pki', `${n}.pem`)], {
      stdio: 'ignore',
    });
  }
}, 60_000);

afterAll(async () => {
  await peers?.stop();
});

const fsRoot = (host: string) => path.join(fleet.dir, 'fs', host);

interface ConfigOptions {
  policy?: 'strict' | 'accept-new-after-reinstall';
  /** Commands between `systemctl enable kojid` and the final chmod. */
  extraCommands?: string[];
  commandTimeout?: string;
  stepTimeout?: string;
}

function makeConfig(options: ConfigOptions = {}): Config {
  const addr = (n: string) => fleet.host(n).address;
  const root = `${fleet.dir}/fs/{host}`;
  return testConfig(
    {
      store: ':memory:',
      koji: { server: hub.url, cert: pki.clients.rekick!.pemPath, serverca: pki.ca.certPath, pollInterval: '50ms' },
      ssh: {
        user: 'root',
        key: fleet.clientKeyPath,
        knownHosts: fleet.knownHostsPath,
        hostKeyPolicy: options.policy ?? 'accept-new-after-reinstall',
        connectTimeout: '5s',
        commandTimeout: options.commandTimeout ?? '20s',
      },
      installer: {
        kernel: 'http://dl.example.org/f43/{arch}/vmlinuz',
        initrd: 'http://dl.example.org/f43/{arch}/initrd.img',
        kickstart: 'http://ks.example.org/{host}.ks',
        args: 'ip={address}::gw inst.repo=http://dl.example.org/f43/{arch}/os/',
        tree: 'http://dl.example.org/f43/{arch}/os/',
        virtArgs: '--memory 2048 --vcpus 2 --noautoconsole',
      },
      postinstall: {
        files: [
          { dest: `${root}/etc/kojid/kojid.conf`, template: path.join(local, 'kojid.conf'), mode: '0644' },
          { dest: `${root}/etc/pki/koji/{host}.pem`, source: path.join(local, 'pki', '{host}.pem'), mode: '0600' },
          { dest: `${root}/etc/motd`, content: 'built by rekick\n', mode: '0444', owner: 'root:root' },
        ],
        commands: [
          'hostnamectl set-hostname {host}',
          // a command that prints the secret file: its content must be redacted from everything rekick keeps
          `cat ${root}/etc/pki/koji/{host}.pem`,
          'systemctl enable kojid',
          ...(options.extraCommands ?? []),
          `chmod 0750 ${root}/etc/kojid`,
        ],
        verify: ['systemctl is-active kojid', 'test "$(hostnamectl)" = {host}'],
      },
      timeouts: { drain: '10s', sshReturn: '20s', step: options.stepTimeout ?? '20s' },
      retry: { attempts: 3, backoff: '20ms', maxBackoff: '100ms' },
    },
    [
      { name: BM, arch: 'aarch64', kind: 'baremetal', address: addr(BM) },
      { name: VH, kind: 'virthost', address: addr(VH) },
      { name: G, arch: 'x86_64', kind: 'virt', virthost: VH, address: addr(G) },
      { name: G2, arch: 'x86_64', kind: 'virt', virthost: VH, address: addr(G2) },
      ...[KEYED, STRICT, RESUME, FAIL, CANCEL].map((name) => ({ name, arch: 'aarch64', kind: 'baremetal', address: addr(name) })),
    ],
  );
}

type Rig = PipelineRig;

/** One rekick: the real Executor, steps, drivers, Koji client and SSH connector, on a lowdb file. */
async function rig(storeFile: string, options: ConfigOptions = {}): Promise<Rig> {
  storeFiles.add(storeFile);
  const r = await startPipelineRig(makeConfig(options), storeFile, log);
  r.executor.on((e) => allEvents.push(e));
  return r;
}

const storePath = (name: string) => path.join(fleet.dir, 'state', `${name}.json`);



/** The fingerprints `ssh-keygen -F ADDRESS -l` finds in rekick's known_hosts (what an admin would see). */
function knownFingerprints(address: string): string[] {
  let out = '';
  try {
    out = execFileSync('ssh-keygen', ['-F', address, '-l', '-f', fleet.knownHostsPath], { encoding: 'utf8' });
  } catch {
    return [];
  }
  return out
    .split('\n')
    .filter((l) => !l.startsWith('#') && l.trim())
    .map((l) => l.split(' ').find((w) => w.startsWith('SHA256:'))!);
}

/** Processes whose command line contains `needle` (to see that a killed remote command is really gone). */
function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) pids.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

function callsOf(host: string): string[] {
  return fleet.calls(host).map((c) => c.slice(1).join(' '));
}

function storedJob(file: string, id: string): Job {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { jobs: Job[] | Record<string, Job> };
  const jobs = Array.isArray(doc.jobs) ? doc.jobs : Object.values(doc.jobs);
  const job = jobs.find((j) => j.id === id);
  if (!job) throw new Error(`job ${id} not in ${file}`);
  return job;
}

const stepIndex = (name: string) => createSteps().findIndex((s) => s.name === name);

describe('full reinstalls through the executor', () => {
  it('bare metal: disabled, staged, rebooted into the installer, new key accepted and posted, configured, verified, enabled on approval', async () => {
    const file = storePath('baremetal');
    const r = await rig(file);
    const h = fleet.host(BM);
    const oldFp = h.fingerprint();
    fleet.clearCalls();
    const [job] = await r.executor.reinstall({ hosts: [BM], by: kevin, origin, reason: 'f43' });
    await r.executor.idle();
    const done = r.store.getJob(job!.id)!;
    expect(done.error).toBeUndefined();
    expect(done.state).toBe('awaiting-approval');
    expect(hub.host(BM)).toMatchObject({ enabled: false });
    expect(hub.host(BM)!.comment).toMatch(/rekick: reinstalling, asked by irc:kevin/);

    const addr = h.address;
    expect(callsOf(BM)).toEqual([
      `curl -fsSL -o ${INSTALLER_KERNEL} http://dl.example.org/f43/aarch64/vmlinuz`,
      `curl -fsSL -o ${INSTALLER_INITRD} http://dl.example.org/f43/aarch64/initrd.img`,
      `grubby --info=${INSTALLER_KERNEL}`,
      `grubby --add-kernel=${INSTALLER_KERNEL} --initrd=${INSTALLER_INITRD} --title=rekick-installer --args=inst.ks=http://ks.example.org/${BM}.ks ip=${addr}::gw inst.repo=http://dl.example.org/f43/aarch64/os/`,
      'grub2-reboot rekick-installer',
      'systemctl reboot',
      `hostnamectl set-hostname ${BM}`,
      'systemctl enable kojid',
      'systemctl reboot',
      'systemctl is-active kojid',
      'hostnamectl',
    ]);
    expect(h.state('next-boot')).toBeUndefined(); // the one-time entry was used by the installer boot

    // the new key: accepted once, its fingerprint exactly what ssh-keygen -lf prints, posted and recorded
    const newFp = h.fingerprint();
    expect(newFp).not.toBe(oldFp);
    expect(newFp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const keyEvents = r.events.filter((e) => e.type === 'host-key-changed');
    expect(keyEvents).toHaveLength(1);
    expect(keyEvents[0]).toMatchObject({ previous: oldFp, fingerprint: newFp });
    expect(renderEvent(keyEvents[0]!).join('\n')).toContain(newFp);
    expect(storedJob(file, job!.id).hostKey).toMatchObject({ previous: oldFp, accepted: newFp });
    expect(knownFingerprints(addr)).toEqual([newFp]);

    // post-install files and modes on the host
    const t = fileTree(fsRoot(BM));
    expect(t['etc/kojid/kojid.conf']).toEqual({ mode: '644', content: `[kojid]\nhost = ${BM}\narch = aarch64\naddress = ${addr}\n` });
    expect(t[`etc/pki/koji/${BM}.pem`]).toEqual({ mode: '600', content: readFileSync(path.join(local, 'pki', `${BM}.pem`), 'utf8') });
    expect(t['etc/motd']).toEqual({ mode: '444', content: 'built by rekick\n' });
    expect(t['etc/kojid/']!.mode).toBe('750');
    expect(h.state('hostname')).toBe(`${BM}\n`);

    // verify ran after the second reboot, and its output is the step's tail
    const verify = done.steps[stepIndex('reboot-verify')]!;
    expect(verify.status).toBe('succeeded');
    expect(verify.outputTail).toEqual(expect.arrayContaining(['$ systemctl is-active kojid', 'active']));
    // the secret file printed by a command reached the tail only redacted
    expect(done.steps[stepIndex('post-install')]!.outputTail!.join('\n')).toContain('[redacted]');
    const progress = r.events.filter((e) => e.type === 'step-progress').map((e) => (e.type === 'step-progress' ? `${e.step}: ${e.message}` : ''));
    expect(progress.some((p) => p.startsWith('reinstall:') && p.includes('SSH has gone away'))).toBe(true);
    expect(progress.some((p) => p.startsWith('wait-ssh:') && p.includes('SSH handshake done'))).toBe(true);

    await r.executor.approve([BM], { by: nirik, origin });
    await r.executor.idle();
    expect(r.store.getJob(job!.id)!.state).toBe('succeeded');
    expect(hub.host(BM)).toMatchObject({ enabled: true });
    expect(hub.host(BM)!.comment).toMatch(/enabled on approval of irc:nirik/);
    expect(r.events.map((e) => e.type).filter((t) => t !== 'step-progress')).toEqual([
      'job-queued',
      ...['disable', 'drain', 'stage-installer', 'reinstall'].flatMap(() => ['step-started', 'step-succeeded']),
      'step-started',
      'host-key-changed',
      'step-succeeded',
      ...['post-install', 'reboot-verify'].flatMap(() => ['step-started', 'step-succeeded']),
      'awaiting-approval',
      'approved',
      'step-started',
      'step-succeeded',
      'enabled',
    ]);
    await r.close();
  }, 60_000);

  it('virt: the guest is destroyed, undefined and virt-installed on its virthost only, comes back with a new key, is configured, verified and enabled', async () => {
    const file = storePath('virt');
    const r = await rig(file);
    const g = fleet.host(G);
    const oldFp = g.fingerprint();
    const siblingFp = fleet.host(G2).fingerprint();
    fleet.clearCalls();
    const [job] = await r.executor.reinstall({ hosts: [G], by: kevin, origin });
    await r.executor.idle();
    const done = r.store.getJob(job!.id)!;
    expect(done.error).toBeUndefined();
    expect(done.state).toBe('awaiting-approval');
    expect(hub.host(G)).toMatchObject({ enabled: false });

    expect(callsOf(VH)).toEqual([
      `virsh destroy ${G}`,
      `virsh undefine ${G} --nvram`,
      `virt-install --name ${G} --location http://dl.example.org/f43/x86_64/os/ --extra-args inst.ks=http://ks.example.org/${G}.ks ip=${g.address}::gw inst.repo=http://dl.example.org/f43/x86_64/os/ --memory 2048 --vcpus 2 --noautoconsole`,
    ]);
    expect(callsOf(G)).toEqual([`hostnamectl set-hostname ${G}`, 'systemctl enable kojid', 'systemctl reboot', 'systemctl is-active kojid', 'hostnamectl']);
    expect(callsOf(G2)).toEqual([]);
    expect(fleet.guestState(G)).toEqual({ defined: true, running: true });
    expect(fleet.guestState(G2)).toEqual({ defined: true, running: true });
    expect(fleet.host(G2).fingerprint()).toBe(siblingFp);
    expect(fleet.host(G2).running).toBe(true);

    const newFp = g.fingerprint();
    expect(newFp).not.toBe(oldFp);
    const keyEvents = r.events.filter((e) => e.type === 'host-key-changed');
    expect(keyEvents).toHaveLength(1);
    expect(keyEvents[0]).toMatchObject({ previous: oldFp, fingerprint: newFp });
    expect(knownFingerprints(g.address)).toEqual([newFp]);
    expect(knownFingerprints(fleet.host(G2).address)).toEqual([siblingFp]);

    const t = fileTree(fsRoot(G));
    expect(t['etc/kojid/kojid.conf']!.content).toBe(`[kojid]\nhost = ${G}\narch = x86_64\naddress = ${g.address}\n`);
    expect(t[`etc/pki/koji/${G}.pem`]!.mode).toBe('600');
    expect(t['etc/kojid/']!.mode).toBe('750');
    expect(done.steps[stepIndex('reboot-verify')]!.status).toBe('succeeded');

    await r.executor.approve([G], { by: nirik, origin });
    await r.executor.idle();
    expect(r.store.getJob(job!.id)!.state).toBe('succeeded');
    expect(hub.host(G)).toMatchObject({ enabled: true });
    await r.close();
  }, 60_000);
});

describe('two reinstalls at once', () => {
  it('a bare-metal host and a virt guest reinstalled together: both new keys recorded once each, both posted', async () => {
    const r = await rig(storePath('together'));
    const before: Record<string, string> = { [BM]: fleet.host(BM).fingerprint(), [G]: fleet.host(G).fingerprint() };
    fleet.clearCalls();
    const jobs = await r.executor.reinstall({ hosts: [BM, G], by: kevin, origin });
    await r.executor.idle();
    for (const j of jobs) expect(r.store.getJob(j.id)!.state, j.host).toBe('awaiting-approval');
    for (const name of [BM, G]) {
      const fp = fleet.host(name).fingerprint();
      expect(fp).not.toBe(before[name]);
      expect(r.events.filter((e) => e.type === 'host-key-changed' && e.job.host === name)).toMatchObject([{ previous: before[name], fingerprint: fp }]);
      expect(knownFingerprints(fleet.host(name).address)).toEqual([fp]);
    }
    expect(readFileSync(fleet.knownHostsPath, 'utf8').trim().split('\n')).toHaveLength(9); // one line per host
    expect(callsOf(VH).map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([`virsh destroy ${G}`, `virsh undefine ${G}`, `virt-install --name ${G}`]);
    expect(callsOf(BM).filter((c) => c === 'systemctl reboot')).toHaveLength(2);
    await r.executor.approve([BM, G], { by: nirik, origin });
    await r.executor.idle();
    expect([hub.host(BM)!.enabled, hub.host(G)!.enabled]).toEqual([true, true]);
    await r.close();
  }, 60_000);
});

describe('host keys through the executor', () => {
  it('a key changed without a reinstall fails stage-installer under both policies, naming both fingerprints; nothing runs on the host', async () => {
    const h = fleet.host(KEYED);
    const oldFp = h.fingerprint();
    h.newHostKey();
    await h.stop();
    await h.start();
    const newFp = h.fingerprint();
    expect(newFp).not.toBe(oldFp);

    for (const policy of ['accept-new-after-reinstall', 'strict'] as const) {
      const r = await rig(storePath(`keyed-${policy}`), { policy });
      fleet.clearCalls();
      const [job] = await r.executor.reinstall({ hosts: [KEYED], by: kevin, origin });
      await r.executor.idle();
      const failed = r.store.getJob(job!.id)!;
      expect(failed.state).toBe('failed');
      expect(failed.error).toMatchObject({ step: 'stage-installer', code: 'E_HOST_KEY_CHANGED' });
      expect(failed.error!.message).toContain(oldFp);
      expect(failed.error!.message).toContain(newFp);
      expect(r.events.some((e) => e.type === 'host-key-changed')).toBe(false);
      const chat = r.events.filter((e) => e.type === 'step-failed').flatMap(renderEvent).join('\n');
      expect(chat).toContain(oldFp);
      expect(chat).toContain(newFp);
      expect(callsOf(KEYED)).toEqual([]);
      expect(knownFingerprints(h.address)).toEqual([oldFp]);
      expect(hub.host(KEYED)).toMatchObject({ enabled: false });
      expect(hub.host(KEYED)!.comment).toMatch(/failed at stage-installer/);
      await r.close();
    }
  }, 30_000);

  it('under strict, a reinstall fails at wait-ssh naming the old and the new fingerprint; known_hosts keeps the old key', async () => {
    const h = fleet.host(STRICT);
    const oldFp = h.fingerprint();
    const r = await rig(storePath('strict'), { policy: 'strict' });
    fleet.clearCalls();
    const [job] = await r.executor.reinstall({ hosts: [STRICT], by: kevin, origin });
    await r.executor.idle();
    const newFp = h.fingerprint();
    expect(newFp).not.toBe(oldFp);
    const failed = r.store.getJob(job!.id)!;
    expect(failed.error).toMatchObject({ step: 'wait-ssh', code: 'E_HOST_KEY_CHANGED' });
    expect(failed.error!.message).toContain(oldFp);
    expect(failed.error!.message).toContain(newFp);
    expect(callsOf(STRICT).at(-1)).toBe('systemctl reboot'); // reinstalled, then nothing more ran there
    expect(r.events.some((e) => e.type === 'host-key-changed')).toBe(false);
    expect(knownFingerprints(h.address)).toEqual([oldFp]);
    expect(hub.host(STRICT)).toMatchObject({ enabled: false });
    await r.close();
  }, 30_000);
});

describe('post-install stopped mid-way and resumed', () => {
  it('a new executor on the same lowdb file resumes post-install and leaves the same files and modes as an uninterrupted run', async () => {
    const file = storePath('resume');
    const marker = path.join(fleet.dir, 'resume-slow-once');
    const SLEEP = 'sleep 41.7';
    // slow the first time only, as a command that waits for something would be
    const slow = `if [ ! -e ${marker} ]; then touch ${marker}; echo slow-step-started; ${SLEEP}; fi`;
    const first = await rig(file, { extraCommands: [slow] });
    const [job] = await first.executor.reinstall({ hosts: [RESUME], by: kevin, origin });
    await until(() => existsSync(marker) && processesWith(SLEEP).length > 0, 'the hung command to be running on the host', 15_000);
    await first.executor.stop(100);
    const stopped = storedJob(file, job!.id);
    expect(stopped.state).toBe('running');
    expect(stopped.current).toBe(stepIndex('post-install'));
    expect(stopped.steps[stepIndex('post-install')]!.status).toBe('running');
    // really stopped mid-way: files written, the last command (chmod 0750) not run
    const midway = fileTree(fsRoot(RESUME));
    expect(midway['etc/kojid/kojid.conf']).toBeDefined();
    expect(midway['etc/kojid/']!.mode).not.toBe('750');
    // and the remote command was killed, not left running on the host
    await until(() => processesWith(SLEEP).length === 0, 'the hung command to be killed on the host', 5_000);
    await first.close();

    const second = await rig(file, { extraCommands: [slow] });
    await second.executor.start();
    await second.executor.idle();
    const resumed = second.store.getJob(job!.id)!;
    expect(resumed.error).toBeUndefined();
    expect(resumed.state).toBe('awaiting-approval');
    expect(resumed.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'pending']);
    expect(second.events.filter((e) => e.type === 'step-started').map((e) => (e.type === 'step-started' ? e.step : ''))).toEqual(['post-install', 'reboot-verify']);
    const afterResume = fileTree(fsRoot(RESUME));
    await second.executor.deny(RESUME, { by: nirik, origin, reason: 'compare with a clean run' });

    // one uninterrupted run of the same host from an empty root, for comparison
    rmSync(fsRoot(RESUME), { recursive: true, force: true });
    const [clean] = await second.executor.reinstall({ hosts: [RESUME], by: kevin, origin });
    await second.executor.idle();
    expect(second.store.getJob(clean!.id)!.state).toBe('awaiting-approval');
    expect(afterResume).toEqual(fileTree(fsRoot(RESUME)));
    expect(afterResume['etc/kojid/']!.mode).toBe('750');
    expect(afterResume[`etc/pki/koji/${RESUME}.pem`]!.mode).toBe('600');
    await second.executor.deny(RESUME, { by: nirik, origin });
    await second.close();
  }, 60_000);
});

describe('remote command failures through the executor', () => {
  it('a hung command is killed at ssh.commandTimeout, or at the step timeout, and fails the job with the cause; a non-zero exit fails with its output tail', async () => {
    const file = storePath('failures');
    const SLEEP = 'sleep 42.3';
    const hung = await rig(file, { commandTimeout: '1500ms', extraCommands: [`echo waiting for the kojid lock; ${SLEEP}; echo never`] });
    const [job] = await hung.executor.reinstall({ hosts: [FAIL], by: kevin, origin });
    await hung.executor.idle();
    const timedOut = hung.store.getJob(job!.id)!;
    expect(timedOut.state).toBe('failed');
    expect(timedOut.error).toMatchObject({ step: 'post-install', code: 'E_REMOTE_TIMEOUT' });
    expect(timedOut.error!.message).toContain(SLEEP);
    expect(timedOut.error!.message).toMatch(/ran longer than 1\.5s and was killed/);
    const failedEvent = hung.events.find((e) => e.type === 'step-failed');
    expect(failedEvent && failedEvent.type === 'step-failed' && failedEvent.outputTail).toEqual(['waiting for the kojid lock']);
    await until(() => processesWith(SLEEP).length === 0, 'the hung command to be killed on the host', 5_000);
    expect(hub.host(FAIL)!.comment).toMatch(/failed at post-install .*ran longer than 1\.5s/);
    await hung.close();

    // !retry resumes at post-install; this time the step's own bound (timeouts.step) is what the command outlives
    const SLEEP2 = 'sleep 43.1';
    const bounded = await rig(file, { stepTimeout: '1500ms', extraCommands: [`echo still waiting; ${SLEEP2}`] });
    await bounded.executor.retry(FAIL, { by: kevin, origin });
    await bounded.executor.idle();
    const stepTimedOut = bounded.store.getJob(job!.id)!;
    expect(stepTimedOut.error).toMatchObject({ step: 'post-install', code: 'E_TIMEOUT' });
    expect(stepTimedOut.error!.message).toMatch(/post-install on buildarm-45 did not finish within 1\.5s/);
    const boundedEvent = bounded.events.find((e) => e.type === 'step-failed');
    expect(boundedEvent && boundedEvent.type === 'step-failed' && boundedEvent.outputTail.at(-1)).toBe('still waiting');
    await until(() => processesWith(SLEEP2).length === 0, 'the second hung command to be killed on the host', 5_000);
    expect(bounded.events.filter((e) => e.type === 'step-started').map((e) => (e.type === 'step-started' ? e.step : ''))).toEqual(['post-install']);
    await bounded.close();

    // the operator changes the config; !retry resumes at post-install, where another command exits non-zero
    // stdout and stderr travel as two streams: the pause keeps the tail's order from depending on timing
    const exit = await rig(file, { extraCommands: ['echo checking builder user; sleep 0.3; echo "kojid: unknown user builder" >&2; exit 4', 'echo never'] });
    await exit.executor.retry(FAIL, { by: kevin, origin });
    await exit.executor.idle();
    const failed = exit.store.getJob(job!.id)!;
    expect(failed.error).toMatchObject({ step: 'post-install', code: 'E_REMOTE_COMMAND' });
    expect(failed.error!.message).toMatch(/exited with code 4: kojid: unknown user builder/);
    const ev = exit.events.find((e) => e.type === 'step-failed');
    expect(ev && ev.type === 'step-failed' && ev.outputTail).toEqual(['checking builder user', 'kojid: unknown user builder']);
    expect(storedJob(file, job!.id).steps[stepIndex('post-install')]!.outputTail).toEqual(['checking builder user', 'kojid: unknown user builder']);
    expect(renderEvent(ev!).join('\n')).toContain('| kojid: unknown user builder');
    expect(exit.events.some((e) => e.type === 'step-started' && e.step !== 'post-install')).toBe(false);
    await exit.close();
  }, 60_000);
});

describe('a cancel after stage-installer', () => {
  it('disarms the installer on the host: next_entry unset, the entry and its files removed; an ordinary reboot boots the old system', async () => {
    const h = fleet.host(CANCEL);
    const oldFp = h.fingerprint();
    const r = await rig(storePath('cancel'));
    fleet.clearCalls();
    // !cancel as soon as the installer is armed, before the reboot into it
    const off = r.executor.on((e) => {
      if (e.type === 'step-succeeded' && e.step === 'stage-installer') void r.executor.cancel(CANCEL, { by: kevin, origin });
    });
    const [job] = await r.executor.reinstall({ hosts: [CANCEL], by: kevin, origin });
    await r.executor.idle();
    off();
    const done = r.store.getJob(job!.id)!;
    expect(done.state).toBe('cancelled');
    expect(done.disarm).toMatchObject({ outcome: 'disarmed' });
    const calls = callsOf(CANCEL);
    expect(calls.slice(calls.indexOf('grub2-reboot rekick-installer'))).toEqual([
      'grub2-reboot rekick-installer',
      'grub2-editenv - list',
      'grub2-editenv - unset next_entry',
      `grubby --info=${INSTALLER_KERNEL}`,
      `grubby --remove-kernel=${INSTALLER_KERNEL}`,
      `rm -f ${INSTALLER_KERNEL} ${INSTALLER_INITRD}`,
    ]);
    expect(h.state('next-boot')).toBeUndefined();
    expect(h.state('grub-entries')!.trim()).toBe('');
    expect(existsSync(h.simRoot(INSTALLER_KERNEL)) || existsSync(h.simRoot(INSTALLER_INITRD))).toBe(false);
    expect(hub.host(CANCEL)!.comment).toBe(`rekick: reinstall cancelled by irc:kevin at reinstall (job ${job!.id}); left disabled; installer disarmed`);
    const line = r.events.filter((e) => e.type === 'cancelled').flatMap(renderEvent)[0];
    expect(line).toMatch(/; installer disarmed: the next reboot boots the old system$/);
    expect(storedJob(storePath('cancel'), job!.id).disarm).toMatchObject({ outcome: 'disarmed' });
    await r.close();

    // an admin reboots it: the old system comes back (same host key), not the installer
    const connector = sshConnectorFor(makeConfig().ssh, log.child({ component: 'ssh' }));
    await rebootHost(connector, h.target, { timeoutMs: 20_000 });
    await waitForSsh(connector, h.target, { hostKeyMode: 'strict', timeoutMs: 20_000 });
    await fleet.settled();
    expect(h.fingerprint()).toBe(oldFp);
  }, 60_000);
});

describe('secrets', () => {
  it('no private key material in the pino logs, the store files or any rendered chat line', () => {
    expect(allEvents.some((e) => e.type === 'enabled')).toBe(true); // after at least one full run
    const keys: Array<[string, string]> = [
      ...BUILDERS.map((n): [string, string] => [`${n}'s Koji key`, readFileSync(path.join(local, 'pki', `${n}.pem`), 'utf8')]),
      ["rekick's SSH key", fleet.clientKey().toString('utf8')],
      ["rekick's Koji client key", pki.clients.rekick!.keyPem],
    ];
    const haystacks: Array<[string, string]> = [
      ['logs', logLines.join('')],
      ...[...storeFiles].map((f): [string, string] => [f, readFileSync(f, 'utf8')]),
      ['chat', allEvents.flatMap(renderEvent).join('\n')],
    ];
    for (const [what, key] of keys) {
      const body = key.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
      expect(body.length, what).toBeGreaterThan(0);
      const raw = Buffer.from(body.join(''), 'base64');
      const rawJson = `[${[...raw.subarray(0, 12)].join(',')}`;
      for (const [where, text] of haystacks) {
        expect(text.length, where).toBeGreaterThan(0);
        for (const line of body) expect(text.includes(line), `${what} in ${where}`).toBe(false);
        expect(text.includes(rawJson), `${what} (as bytes) in ${where}`).toBe(false);
        expect(text.includes(raw.toString('hex').slice(0, 48)), `${what} (as hex) in ${where}`).toBe(false);
      }
    }
  });
});
