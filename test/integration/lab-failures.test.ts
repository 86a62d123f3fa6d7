/**
 * A failure injected at each step in turn, on the lab (simulated builders over real SSH, the hub stand-in over
 * HTTPS): the failure is reported with its cause, the host stays disabled in the hub with a comment naming the
 * failure, the job ends `failed` in the store, and `!retry` resumes from that very step and finishes (a failed
 * reinstall from stage-installer: its installer was disarmed, and the retry arms it again).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEvent } from '../../src/present/event-lines';
import type { LabPeers } from '../../lab/run-lab';
import type { Rekick } from '../../src/main';
import type { ExecutorEvent, StepName } from '../../src/model';
import { by, origin, startLabRekick, stopLabRekick } from './helpers/lab-rekick';

let peers: LabPeers;
let rekick: Rekick;
const events: ExecutorEvent[] = [];

beforeAll(async () => {
  ({ peers, rekick } = await startLabRekick({ hosts: 8, fast: true }, {
    events,
    edit: (raw) => {
      raw.timeouts = { drain: '1s', sshReturn: '4s', step: '15s' };
      raw.retry = { attempts: 1, backoff: '100ms', maxBackoff: '100ms' };
    },
  }));
}, 90_000);

afterAll(() => stopLabRekick({ peers, rekick }));

type Case = { step: StepName; host: string; inject(): () => void; cause: RegExp; resumes?: StepName };

const cases = (): Case[] => [
  {
    step: 'disable',
    host: 'buildarm-01',
    inject: () => {
      peers.hub.revoke('rekick', 'host');
      peers.hub.revoke('rekick', 'admin');
      return () => {
        peers.hub.grant('rekick', 'host');
        peers.hub.grant('rekick', 'admin');
      };
    },
    cause: /ActionNotAllowed|permission|grant-permission/i,
  },
  {
    step: 'drain',
    host: 'buildarm-02',
    inject: () => {
      const t = peers.hub.createTask('buildarm-02', { method: 'buildArch', state: 1 });
      return () => peers.hub.finishTask(t.id);
    },
    cause: /still open after 1\.0s: \d+ buildArch/,
  },
  { step: 'stage-installer', host: 'buildarm-03', inject: () => peers.fleet.get('buildarm-03')!.inject({ kind: 'curl-fail', url: 'vmlinuz', code: 22 }), cause: /curl/ },
  { step: 'reinstall', host: 'buildarm-04', inject: () => peers.fleet.get('buildarm-04')!.inject({ kind: 'fail', match: 'systemctl reboot', stderr: 'Failed to reboot: access denied' }), cause: /systemctl reboot|access denied/, resumes: 'stage-installer' },
  { step: 'wait-ssh', host: 'buildvm-x86-01', inject: () => peers.fleet.get('buildvm-x86-01')!.inject({ kind: 'no-return' }), cause: /did not finish within|down/ },
  { step: 'post-install', host: 'buildvm-x86-02', inject: () => peers.fleet.get('buildvm-x86-02')!.inject({ kind: 'fail', match: 'hostnamectl', code: 3, stderr: 'Could not set hostname' }), cause: /hostnamectl.*exited with code 3/ },
  { step: 'reboot-verify', host: 'buildvm-x86-03', inject: () => peers.fleet.get('buildvm-x86-03')!.inject({ kind: 'fail', match: 'is-active', code: 3, stderr: 'inactive' }), cause: /is-active/ },
];

describe('a failure at each step', () => {
  it.each(cases().map((c) => [c.step, c] as const))('at %s: reported with its cause, host left disabled with a comment, !retry resumes there', async (_name, c) => {
    const clear = c.inject();
    const [job] = await rekick.executor.reinstall({ hosts: [c.host], by, origin });
    await rekick.executor.idle();
    const failed = rekick.store.getJob(job!.id)!;
    expect(failed.state).toBe('failed');
    expect(failed.error?.step).toBe(c.step);
    expect(failed.error?.message).toMatch(c.cause);
    const ev = events.find((e) => e.type === 'step-failed' && e.job.id === job!.id)!;
    const lines = renderEvent(ev).join('\n');
    expect(lines).toMatch(new RegExp(`${c.host} \\[\\d/8\\] ${c.step} failed`));
    const hub = peers.hub.host(c.host)!;
    if (c.step === 'disable') {
      expect(hub.enabled).toBe(true); // nothing changed in Koji
      const metrics = await (await fetch(new URL('/metrics', rekick.http!.url))).text();
      expect(metrics).toMatch(/rekick_koji_call_errors_total\{method="(disableHost|listHosts|getHost)"\} [1-9]/);
      expect(lines).toContain('host not touched in Koji');
    } else {
      expect(hub.enabled).toBe(false);
      expect(hub.comment).toMatch(new RegExp(`rekick: reinstall failed at ${c.step}`));
      expect(lines).toContain('left disabled');
    }
    if (c.step === 'reinstall') {
      expect(failed.disarm?.outcome).toBe('disarmed');
      expect(lines).toContain('installer disarmed: the next reboot boots the old system');
      expect(lines).toContain(`!retry ${c.host} resumes from stage-installer`);
    }

    clear();
    const before = events.length;
    await rekick.executor.retry(c.host, { by, origin });
    await rekick.executor.idle();
    const firstStarted = events.slice(before).find((e) => e.type === 'step-started' && e.job.id === job!.id);
    expect(firstStarted && firstStarted.type === 'step-started' && firstStarted.step).toBe(c.resumes ?? c.step);
    expect(rekick.store.getJob(job!.id)!.state).toBe('awaiting-approval');
    await rekick.executor.approve([c.host], { by, origin });
    await rekick.executor.idle();
    expect(peers.hub.host(c.host)!.enabled).toBe(true);
  }, 60_000);
});
