import { describe, expect, it } from 'vitest';
import { renderEvent } from '../../src/present/event-lines';
import { renderHosts, renderQueue } from '../../src/present/fleet-lines';
import { renderJob, renderStatus } from '../../src/present/job-lines';
import { STEP_NAMES, type ExecutorEvent, type Job } from '../../src/model';
import { makeJob } from '../fakes/jobs';

const kevin = { source: 'irc' as const, id: 'kevin', display: 'kevin' };
const nirik = { source: 'irc' as const, id: 'nirik', display: 'nirik' };
const NOW = new Date('2025-06-01T12:00:00Z');

function job(partial: Partial<Job> = {}): Job {
  return makeJob({ id: 'j1', host: 'buildarm-03', createdAt: '2025-06-01T11:00:00Z', requestedBy: kevin, ...partial });
}

const disabled = () => {
  const j = job({ kojiComment: 'rekick: reinstall failed at stage-installer (job j1): curl: (22) 404; left disabled' });
  j.steps[0]!.status = 'succeeded';
  return j;
};

describe('renderEvent: what the channel sees', () => {
  it.each<[string, ExecutorEvent, string[]]>([
    ['job-queued', { type: 'job-queued', job: job({ reason: 'kernel 6.9', options: { forceDrain: true } }) }, ['buildarm-03 queued for reinstall by kevin (job j1, force-drain): kernel 6.9']],
    ['step-started', { type: 'step-started', job: job(), step: 'stage-installer', index: 2 }, ['buildarm-03 [3/8] stage-installer …']],
    ['step-succeeded', { type: 'step-succeeded', job: job(), step: 'stage-installer', index: 2, durationMs: 4100 }, ['buildarm-03 [3/8] stage-installer ✓ 4.1s']],
    ['step-progress', { type: 'step-progress', job: job(), step: 'drain', message: 'waiting for 2 tasks: 11, 12' }, ['buildarm-03 [2/8] drain: waiting for 2 tasks: 11, 12']],
    [
      'step-retrying',
      { type: 'step-retrying', job: job(), step: 'wait-ssh', attempt: 1, delayMs: 2000, error: { code: 'E_SSH', message: 'connection refused' } },
      ['buildarm-03 [5/8] wait-ssh attempt 1 failed: connection refused — retrying in 2.0s'],
    ],
    [
      'host-key-changed',
      { type: 'host-key-changed', job: job(), previous: 'SHA256:old', fingerprint: 'SHA256:Jk2bQ9nT' },
      ['buildarm-03 new SSH host key accepted after reinstall: SHA256:Jk2bQ9nT (was SHA256:old)'],
    ],
    ['awaiting-approval', { type: 'awaiting-approval', job: job() }, ['buildarm-03 is ready: !approve buildarm-03 to enable it in Koji (or !deny buildarm-03 REASON)']],
    ['approved', { type: 'approved', job: job(), by: nirik, override: false, auto: false }, ['buildarm-03 approved by nirik; enabling in Koji']],
    ['approved with override', { type: 'approved', job: job(), by: nirik, override: true, auto: false }, ['buildarm-03 approved by nirik with --override; enabling in Koji']],
    ['auto-approved', { type: 'approved', job: job(), by: { source: 'rolling', display: 'rolling' }, override: false, auto: true }, ['buildarm-03 auto-approved (rolling.autoApprove); enabling in Koji']],
    ['enable end', { type: 'step-succeeded', job: job(), step: 'enable', index: 7, durationMs: 300 }, ['buildarm-03 [8/8] enable ✓ 300ms']],
    ['enabled', { type: 'enabled', job: job() }, ['buildarm-03 is enabled in Koji — reinstall done (job j1)']],
    ['denied', { type: 'denied', job: disabled(), by: nirik, reason: 'bad disk' }, [expect.stringMatching(/^buildarm-03 denied by nirik: bad disk — host left disabled in Koji \("rekick: /)]],
    ['cancelled', { type: 'cancelled', job: { ...disabled(), current: 1 }, by: kevin }, [expect.stringMatching(/^buildarm-03 cancelled by kevin at \[2\/8\] drain — host left disabled in Koji/)]],
    ['cancelled before disable', { type: 'cancelled', job: job(), by: kevin }, ['buildarm-03 cancelled by kevin at [1/8] disable — host not touched in Koji']],
    ['notice info', { type: 'notice', level: 'info', text: 'Koji hub is back' }, ['Koji hub is back']],
    ['notice warn', { type: 'notice', level: 'warn', text: 'Koji hub unreachable\nretrying' }, ['warning: Koji hub unreachable retrying']],
    ['notice error', { type: 'notice', level: 'error', text: 'state file not writable' }, ['error: state file not writable']],
  ])('%s', (_name, event, lines) => {
    expect(renderEvent(event)).toEqual(lines);
  });

  it('a failure: the word failed, host, step, cause, the state left in with the comment, then the output tail', () => {
    const lines = renderEvent({
      type: 'step-failed',
      job: disabled(),
      step: 'stage-installer',
      index: 2,
      error: { code: 'E_REMOTE', message: 'curl exited 22\nsecond line' },
      outputTail: ['a', 'b', 'c', 'd', 'e', 'f', 'curl: (22) The requested URL returned error: 404\x1b[0m'],
    });
    expect(lines[0]).toBe(
      'buildarm-03 [3/8] stage-installer failed: curl exited 22 second line — host left disabled in Koji ("rekick: reinstall failed at stage-installer (job j1): curl: (22) 404; left disabled"); !retry buildarm-03 resumes from stage-installer',
    );
    expect(lines.slice(1)).toEqual(['buildarm-03 last output:', '  | c', '  | d', '  | e', '  | f', '  | curl: (22) The requested URL returned error: 404[0m']);
  });

  it('a failure without remote output is one line', () => {
    expect(renderEvent({ type: 'step-failed', job: job(), step: 'disable', index: 0, error: { code: 'E_KOJI', message: 'hub said no' }, outputTail: [] })).toEqual([
      'buildarm-03 [1/8] disable failed: hub said no — host not touched in Koji; !retry buildarm-03 resumes from disable',
    ]);
  });

  it('every step is named with its number out of 8', () => {
    STEP_NAMES.forEach((step, index) => {
      expect(renderEvent({ type: 'step-started', job: job(), step, index })).toEqual([`buildarm-03 [${index + 1}/8] ${step} …`]);
    });
  });
});

describe('tables', () => {
  it('status: one line per job, active first', () => {
    const done = job({ host: 'buildarm-01', id: 'j0', state: 'succeeded', endedAt: '2025-06-01T09:00:00Z' });
    const failed = job({ host: 'buildarm-02', id: 'j2', state: 'failed', endedAt: '2025-06-01T11:50:00Z', error: { step: 'wait-ssh', code: 'E_TIMEOUT', message: 'no SSH within 60m' } });
    const waiting = job({ id: 'j3', state: 'awaiting-approval', updatedAt: '2025-06-01T11:48:00Z' });
    expect(renderStatus([done, failed, waiting], NOW)).toEqual([
      'buildarm-03 waiting for approval for 12m (job j3, by kevin)',
      'buildarm-01 reinstalled 3h ago (job j0, by kevin)',
      'buildarm-02 failed at [5/8] wait-ssh 10m ago: no SSH within 60m (job j2, by kevin)',
    ]);
  });

  it('one job: failed step with its cause, and how to resume', () => {
    const j = job({ state: 'failed', current: 2, error: { step: 'stage-installer', code: 'E', message: 'boom' }, endedAt: '2025-06-01T11:59:00Z' });
    j.steps[0] = { name: 'disable', status: 'succeeded', attempts: 1, durationMs: 400 };
    j.steps[1] = { name: 'drain', status: 'skipped', attempts: 0 };
    j.steps[2] = { name: 'stage-installer', status: 'failed', attempts: 3, durationMs: 4100, error: { code: 'E', message: 'boom' } };
    const lines = renderJob(j, NOW);
    expect(lines.slice(1, 4)).toEqual(['  [1/8] disable ✓ succeeded 400ms', '  [2/8] drain – skipped', '  [3/8] stage-installer ✗ failed 4.1s boom']);
    expect(lines.at(-1)).toMatch(/host left disabled in Koji; !retry buildarm-03 resumes from stage-installer/);
  });

  it('queue numbers hosts and flags ones needing --override', () => {
    const a = job({ state: 'awaiting-approval', updatedAt: '2025-06-01T10:00:00Z', kojiBefore: { enabled: false, comment: 'x' } });
    expect(renderQueue([a], NOW)).toEqual(['1. buildarm-03 waiting 2h (job j1, by kevin; was disabled before rekick: needs --override)']);
  });

  it('hosts: compact, one line per host', () => {
    expect(renderHosts([{ name: 'b1', arch: 'x86_64', kind: 'virt', lastReinstalledAt: '2025-05-20T12:00:00Z', koji: { enabled: true, comment: null } }], NOW)).toEqual([
      'b1 (x86_64 virt) koji: enabled; job: none; last reinstall 12d ago',
    ]);
  });
});
