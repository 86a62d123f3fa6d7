/**
 * SSH faults through the whole rekick (createRekick in process) on the lab fleet: simulated SSH builders with
 * fault injection and the Koji hub stand-in, with tight timeouts written into the lab config before it is loaded.
 * Each test ends with the lines the channel saw and the state after, in the store and on the hub.
 * - the SSH connection cut while a post-install command runs: the retryable step retries and the job finishes;
 * - a host that never comes back after the reinstall: wait-ssh times out at timeouts.sshReturn, the job fails at
 *   [5/8] naming the last state, the host stays disabled in Koji with a comment naming the failure, and `!retry`
 *   once the host is back finishes the job;
 * - curl failing for the installer kernel at stage-installer: the failure shows the cause and the output tail.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load';
import { startLabPeers, type LabPeers } from '../../lab/run-lab';
import type { SimBuilder } from '../../lab/fleet/sim-builder';
import { createRekick, type Rekick } from '../../src/main';
import type { Identity } from '../../src/model';
import { FakeChat } from '../fakes/fake-chat';
import { until as waitUntil } from '../support/until';

const operator: Identity = { source: 'console', id: 'operator', display: 'operator' };
const SSH_RETURN_MS = 2_500;

let peers: LabPeers;
let rekick: Rekick;
const chat = new FakeChat('console');

beforeAll(async () => {
  peers = await startLabPeers({ hosts: 6, fast: true });
  const yaml = parse(readFileSync(peers.configPath, 'utf8')) as Record<string, unknown>;
  yaml.timeouts = { drain: '10s', sshReturn: `${SSH_RETURN_MS}ms`, step: '10s' };
  yaml.retry = { attempts: 3, backoff: '50ms', maxBackoff: '200ms' };
  writeFileSync(peers.configPath, stringify(yaml));
  const config = loadConfig(peers.configPath, { env: {} });
  rekick = await createRekick({ config, log: pino({ level: 'silent' }), adapters: [chat], chat: { irc: false, slack: false } });
  await rekick.start();
}, 60_000);

afterAll(async () => {
  await rekick?.stop();
  await peers?.stop();
});

const until = (cond: () => boolean, what: string, ms = 30_000) => waitUntil(cond, what, ms, () => `channel:\n${chat.texts().join('\n')}`);

const builder = (name: string): SimBuilder => peers.fleet.builders.get(name)!;
const jobOf = (host: string) => rekick.store.listJobs().find((j) => j.host === host);

/** What the channel saw about `host` (its step progress lines too with `progress`), ids and durations made stable. */
function seen(host: string, options: { progress?: boolean } = {}): string[] {
  return chat
    .texts('#builders')
    .filter((l) => l.startsWith(host))
    .filter((l) => options.progress || !/^\S+ \[\d\/8\] [\w-]+: |new SSH host key accepted/.test(l))
    .map((l) => l.replace(/j-[a-z0-9]+-[0-9a-f]+/g, 'JOB').replace(/ ✓ [\d.]+m?s$/, ' ✓'));
}

const stepLines = (host: string, from: number, to: number) =>
  ['disable', 'drain', 'stage-installer', 'reinstall', 'wait-ssh', 'post-install', 'reboot-verify', 'enable']
    .slice(from - 1, to)
    .flatMap((s, i) => [`${host} [${i + from}/8] ${s} …`, `${host} [${i + from}/8] ${s} ✓`]);

/** From the approval gate to the end: what the channel sees once the operator approves. */
const approvedLines = (host: string) => [
  `${host} is ready (new system: host key and machine-id changed): !approve ${host} to enable it in Koji (or !deny ${host} REASON)`,
  `${host} approved by operator; enabling in Koji`,
  ...stepLines(host, 8, 8),
  `${host} is enabled in Koji — reinstall done (job JOB)`,
];

describe('SSH faults through the executor on the lab fleet', () => {
  it('the connection cut mid-command in post-install: the step retries on a new connection and the job finishes', async () => {
    const host = 'buildarm-01';
    builder(host).inject({ kind: 'drop', match: 'systemctl enable kojid', times: 1 });
    await chat.say(operator, `!reinstall ${host}`);
    await until(() => seen(host).some((l) => l.startsWith(`${host} is ready`)), 'the approval gate');
    expect(jobOf(host)?.state).toBe('awaiting-approval');
    const job = jobOf(host)!;
    expect(job.steps.find((s) => s.name === 'post-install')).toMatchObject({ status: 'succeeded', attempts: 2 });
    // the command was run again after the cut, and the host ended configured
    expect(builder(host).commands.filter((c) => c.includes('systemctl enable kojid'))).toHaveLength(2);
    await chat.say(operator, `!approve ${host}`);
    await until(() => seen(host).some((l) => l.includes('reinstall done')), 'the job to finish');
    expect(jobOf(host)?.state).toBe('succeeded');
    expect(peers.hub.host(host)).toMatchObject({ enabled: true });
    const lines = seen(host);
    expect(lines).toEqual([
      `${host} queued for reinstall by operator (job JOB)`,
      ...stepLines(host, 1, 5),
      `${host} [6/8] post-install …`,
      expect.stringMatching(new RegExp(`^${host} \\[6/8\\] post-install attempt 1 failed: .*(connection|lost|closed).* — retrying in `, 'i')),
      `${host} [6/8] post-install ✓`,
      ...stepLines(host, 7, 7),
      ...approvedLines(host),
    ]);
  }, 60_000);

  it('a host that never comes back: failed at [5/8] wait-ssh after sshReturn, left disabled with the cause; !retry once it is back finishes', async () => {
    const host = 'buildarm-02';
    const clear = builder(host).inject({ kind: 'no-return' });
    await chat.say(operator, `!reinstall ${host}`);
    await until(() => seen(host).some((l) => l.startsWith(`${host} [5/8] wait-ssh failed`)), 'the job to fail', 30_000);
    const failed = jobOf(host)!;
    expect(failed.error).toMatchObject({ step: 'wait-ssh' });
    const waitSsh = failed.steps.find((s) => s.name === 'wait-ssh')!;
    expect(waitSsh.status).toBe('failed');
    expect(waitSsh.durationMs).toBeGreaterThanOrEqual(SSH_RETURN_MS - 50);
    const failure = seen(host).find((l) => l.startsWith(`${host} [5/8] wait-ssh failed`))!;
    // names the timeout and the last state seen, says the host is left disabled, that its installer could not be
    // disarmed (it does not answer; rebooted into the installer, it may be installing), and how to resume
    expect(failure).toMatch(
      new RegExp(
        `^${host} \\[5/8\\] wait-ssh failed: wait-ssh on ${host} did not finish within 2\\.5s; last state: down \\(no TCP connection\\) — host left disabled in Koji \\(.*\\); ` +
          `COULD NOT DISARM the installer \\(.*2 tries.*\\): the host was rebooted into it at \\[4/8\\] and may be installing; if its old system comes back, run on the host: grub2-editenv - unset next_entry; grubby --remove-kernel=/boot/vmlinuz-rekick-installer; !retry ${host} resumes from wait-ssh$`,
      ),
    );
    expect(failed.disarm).toMatchObject({ outcome: 'failed' });
    expect(failed.error!.message).toContain('last state: down (no TCP connection)');
    const hubHost = peers.hub.host(host)!;
    expect(hubHost.enabled).toBe(false);
    expect(hubHost.comment).toMatch(/^rekick: reinstall failed at wait-ssh \(job j-[a-z0-9]+-[0-9a-f]+\): wait-ssh on buildarm-02 did not finish within 2\.5s; last state: down/);
    expect(hubHost.comment).toMatch(/; left disabled; COULD NOT DISARM the installer \(the host was rebooted into it: it may be installing\)$/);

    clear(); // the boot finishes now
    await until(() => builder(host).state === 'up', 'the host to come back', 10_000);
    await chat.say(operator, `!retry ${host}`);
    await until(() => seen(host).some((l) => l.startsWith(`${host} is ready`)), 'the retried job to reach the gate');
    expect(jobOf(host)?.state).toBe('awaiting-approval');
    await chat.say(operator, `!approve ${host}`);
    await until(() => seen(host).some((l) => l.includes('reinstall done')), 'the job to finish');
    expect(jobOf(host)?.state).toBe('succeeded');
    expect(peers.hub.host(host)).toMatchObject({ enabled: true });
    const lines = seen(host);
    expect(lines).toEqual([
      `${host} queued for reinstall by operator (job JOB)`,
      ...stepLines(host, 1, 4),
      `${host} [5/8] wait-ssh …`,
      failure,
      `${host} [5/8] wait-ssh …`,
      `${host}: retrying job JOB from [5/8] wait-ssh`,
      `${host} [5/8] wait-ssh ✓`,
      ...stepLines(host, 6, 7),
      ...approvedLines(host),
    ]);
  }, 60_000);

  it('curl failing for the kernel URL at stage-installer: the failure shows the cause and the output tail', async () => {
    const host = 'buildarm-03';
    builder(host).inject({ kind: 'curl-fail', url: /vmlinuz/, code: 22, message: 'The requested URL returned error: 404' });
    await chat.say(operator, `!reinstall ${host}`);
    await until(() => seen(host).some((l) => l.startsWith(`${host} [3/8] stage-installer failed`)), 'the job to fail');
    const job = jobOf(host)!;
    expect(job.error).toMatchObject({ step: 'stage-installer' });
    const lines = seen(host);
    const curl = "`curl -fsSL -o '/boot/vmlinuz-rekick-installer' 'http://dl.lab/fedora/43/aarch64/os/images/pxeboot/vmlinuz'`";
    expect(job.error!.message).toBe(`${curl} on ${host} exited with code 22: curl: (22) The requested URL returned error: 404`);
    expect(job.steps[2]).toMatchObject({ name: 'stage-installer', status: 'failed', attempts: 1, outputTail: ['curl: (22) The requested URL returned error: 404'] });
    expect(peers.hub.host(host)).toMatchObject({ enabled: false, comment: expect.stringMatching(/^rekick: reinstall failed at stage-installer/) });
    // the installer was never staged nor booted: no initrd download, no boot entry, no reboot; the disarm found nothing
    expect(builder(host).commands.some((c) => /curl.*initrd|grub2-reboot|grubby --add-kernel|systemctl reboot/.test(c))).toBe(false);
    expect(builder(host).commands.some((c) => c.includes('grub2-editenv - unset next_entry'))).toBe(true);
    expect(job.disarm).toMatchObject({ outcome: 'nothing-armed' });
    expect(lines).toEqual([
      `${host} queued for reinstall by operator (job JOB)`,
      ...stepLines(host, 1, 2),
      `${host} [3/8] stage-installer …`,
      expect.stringMatching(/.*/),
    ]);
    // one message: the cause (the command, the URL, curl's exit code and message), the state left, how to resume,
    // then the output tail
    const [first, ...tail] = lines.at(-1)!.split('\n');
    expect(first).toBe(
      `${host} [3/8] stage-installer failed: ${curl} on ${host} exited with code 22: curl: (22) The requested URL returned error: 404 — host left disabled in Koji ("rekick: reinstall failed at stage-installer (job JOB): ${curl} on ${host} exited…"); no installer was armed (checked): the next reboot boots the old system; !retry ${host} resumes from stage-installer`,
    );
    expect(tail).toEqual([`${host} last output:`, '  | curl: (22) The requested URL returned error: 404']);
  }, 60_000);
});
