/**
 * What a cancelled or failed job says of the installer it may have armed: the chat line, !status, the Koji comment
 * (kept within Koji's 255 characters with the disarm part whole), and where !retry resumes.
 */
import { describe, expect, it } from 'vitest';
import { renderEvent } from '../../src/present/event-lines';
import { renderJob, renderStatus } from '../../src/present/job-lines';
import { parentBlocks } from '../../src/chat/slack/blocks';
import { cancelComment, failureComment } from '../../src/present/koji-comments';
import type { DisarmRecord, Job } from '../../src/model';
import { makeJob } from '../fakes/jobs';

const kevin = { source: 'irc' as const, id: 'kevin', display: 'kevin' };
const NOW = new Date('2025-06-01T12:00:00Z');
const BY_HAND = 'grub2-editenv - unset next_entry; grubby --remove-kernel=/boot/vmlinuz-rekick-installer';

/** A job that ended at `current` with stage-installer (and the steps before) done, and this disarm record. */
function ended(state: 'cancelled' | 'failed', current: number, disarm: DisarmRecord, host = 'buildarm-03'): Job {
  const job = makeJob({ id: 'j1', host, state, current, requestedBy: kevin, endedAt: '2025-06-01T11:59:00Z', cancel: state === 'cancelled' ? { by: kevin, at: 'T' } : undefined });
  for (let i = 0; i < current; i++) job.steps[i]!.status = 'succeeded';
  if (state === 'failed') {
    job.steps[current]!.status = 'failed';
    job.error = { code: 'E_X', message: 'systemctl reboot exited 1', step: job.steps[current]!.name };
  }
  job.disarm = disarm;
  job.kojiComment = state === 'failed' ? failureComment(job, job.steps[current]!.name, 'systemctl reboot exited 1') : cancelComment(job, kevin, job.steps[current]!.name);
  return job;
}

describe('the cancel and failure lines', () => {
  it('cancelled after stage-installer: installer disarmed', () => {
    const job = ended('cancelled', 3, { outcome: 'disarmed', at: 'T', detail: 'next_entry rekick-installer unset' });
    expect(job.kojiComment).toBe('rekick: reinstall cancelled by irc:kevin at reinstall (job j1); left disabled; installer disarmed');
    expect(renderEvent({ type: 'cancelled', job, by: kevin })).toEqual([
      'buildarm-03 cancelled by kevin at [4/8] reinstall — host left disabled in Koji ("rekick: reinstall cancelled by irc:kevin at reinstall (job j1); left disabled"); installer disarmed: the next reboot boots the old system',
    ]);
  });

  it('failed at reinstall, disarm failed: COULD NOT DISARM, what to run; !retry resumes from the failed step (the host state is not known)', () => {
    const job = ended('failed', 3, { outcome: 'failed', at: 'T', detail: 'connect ECONNREFUSED (2 tries in 4s)' });
    const [line] = renderEvent({ type: 'step-failed', job, step: 'reinstall', index: 3, error: job.error!, outputTail: [] });
    expect(line).toBe(
      'buildarm-03 [4/8] reinstall failed: systemctl reboot exited 1 — host left disabled in Koji ("rekick: reinstall failed at reinstall (job j1): systemctl reboot exit…; left disabled"); ' +
        `COULD NOT DISARM the installer (connect ECONNREFUSED (2 tries in 4s)): the next reboot reinstalls it — run on the host: ${BY_HAND}; !retry buildarm-03 resumes from reinstall`,
    );
  });

  it('a virt guest: its VM is gone and stays down until reinstalled', () => {
    const job = ended('cancelled', 3, { outcome: 'vm-gone', at: 'T', detail: 'destroyed' }, 'buildvm-x86-01');
    expect(renderEvent({ type: 'cancelled', job, by: kevin })[0]).toMatch(
      /— host left disabled in Koji \(".*"\); buildvm-x86-01's VM was destroyed and undefined at \[3\/8\]; it stays down until reinstalled: !reinstall buildvm-x86-01$/,
    );
  });
});

describe('the Koji comment', () => {
  const longId = 'j-mxcneyhc-859fdb';
  it('a failed disarm is kept whole within 255 characters: the cause is cut for it, or left to chat', () => {
    const job = ended('failed', 3, { outcome: 'failed', at: 'T' });
    const comment = failureComment(job, 'reinstall', 'x'.repeat(400));
    expect(comment.length).toBeLessThanOrEqual(255);
    expect(comment).toMatch(/^rekick: reinstall failed at reinstall \(job j1\): x+…; left disabled; COULD NOT DISARM the installer: the next reboot reinstalls it — run on the host: /);
    expect(comment.endsWith(BY_HAND)).toBe(true);
    const real = { ...job, id: longId };
    expect(failureComment(real, 'stage-installer', 'curl failed')).toBe(
      `rekick: reinstall failed at stage-installer (job ${longId}); left disabled; COULD NOT DISARM the installer: the next reboot reinstalls it — run on the host: ${BY_HAND}`,
    );
  });

  it('after the reboot into the installer was issued, a failed disarm says so (grub has used the one-time entry), in short', () => {
    const job = { ...ended('failed', 4, { outcome: 'failed', at: 'T' }), id: longId };
    const comment = failureComment(job, 'wait-ssh', 'did not come back');
    expect(comment).toBe(`rekick: reinstall failed at wait-ssh (job ${longId}): did not come back; left disabled; COULD NOT DISARM the installer (the host was rebooted into it: it may be installing)`);
    expect(comment.length).toBeLessThanOrEqual(255);
  });

  it('a cancel with a failed disarm: step, job and the warning whole, who by name', () => {
    const job = { ...ended('cancelled', 2, { outcome: 'failed', at: 'T' }), id: longId };
    const by = { source: 'console' as const, id: 'operator', display: 'operator' };
    const comment = cancelComment(job, by, 'stage-installer');
    expect(comment.length).toBeLessThanOrEqual(255);
    expect(comment).toBe(`rekick: reinstall cancelled at stage-installer (job ${longId}) by operator; COULD NOT DISARM the installer: the next reboot reinstalls it — run on the host: ${BY_HAND}`);
  });
});

describe('!status', () => {
  it('says what became of the installer, in the list and for the host', () => {
    const job = ended('failed', 4, { outcome: 'disarmed', at: 'T', detail: 'next_entry rekick-installer unset, installer entry removed' });
    expect(renderStatus([job], NOW)[0]).toContain('; installer disarmed (job j1');
    const lines = renderJob(job, NOW);
    expect(lines).toContain('  installer disarmed: the next reboot boots the old system (next_entry rekick-installer unset, installer entry removed)');
    expect(lines.at(-1)).toMatch(/!retry buildarm-03 resumes from stage-installer$/);
    const failed = ended('cancelled', 2, { outcome: 'failed', at: 'T', detail: 'host key mismatch' });
    expect(renderJob(failed, NOW).join('\n')).toContain(`COULD NOT DISARM the installer (host key mismatch): the next reboot reinstalls it — run on the host: ${BY_HAND}`);
    // and the job's Slack message
    expect(JSON.stringify(parentBlocks(failed, NOW))).toContain('COULD NOT DISARM the installer (host key mismatch)');
  });
});
