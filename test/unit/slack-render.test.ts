/** Slack rendering of a job: the step table, the parent text, buttons only while awaiting approval, escaping. */
import { describe, expect, it } from 'vitest';
import { escapeMrkdwn, parentBlocks, parentText, parseButtonValue, stepTable } from '../../src/chat/slack/blocks';
import { STEP_NAMES, type Job } from '../../src/model';

const NOW = new Date('2026-01-01T12:00:00Z');

function job(state: Job['state'], current: number, extra: Partial<Job> = {}): Job {
  return {
    id: 'j-1',
    host: 'buildarm-03',
    state,
    createdAt: '2026-01-01T11:00:00Z',
    updatedAt: '2026-01-01T11:00:00Z',
    requestedBy: { source: 'slack', id: 'U1', display: 'kevin <admin>' },
    origin: { adapter: 'slack', room: 'C1' },
    options: {},
    steps: STEP_NAMES.map((name, i) => ({
      name,
      status: i < current ? 'succeeded' : i === current && state === 'running' ? 'running' : 'pending',
      attempts: 1,
      startedAt: i === current ? '2026-01-01T11:58:00Z' : undefined,
      durationMs: i < current ? 61_000 : undefined,
    })),
    current,
    data: {},
    ...extra,
  };
}

describe('stepTable', () => {
  it('one aligned line per step with state and time; a running step shows how long so far', () => {
    const lines = stepTable(job('running', 3), NOW).split('\n');
    expect(lines).toHaveLength(8);
    expect(lines[0]).toBe('✓ 1/8 disable          ok        1m1s');
    expect(lines[3]).toBe('▶ 4/8 reinstall        running   2m…');
    expect(lines[7]).toBe('· 8/8 enable           pending');
  });
});

describe('parent message', () => {
  it('says where the job is, and how to approve when it waits', () => {
    expect(parentText(job('running', 3))).toBe('reinstall of buildarm-03: running, [4/8] reinstall');
    expect(parentText(job('awaiting-approval', 7))).toBe('reinstall of buildarm-03: ready, awaiting approval — approvers: !approve buildarm-03');
  });

  it('carries Approve and Deny buttons (value: the job and its host) only while awaiting approval', () => {
    const waiting = parentBlocks(job('awaiting-approval', 7), NOW);
    const actions = waiting.find((b) => b.type === 'actions') as unknown as { elements: Array<{ action_id: string; value: string; style: string }> };
    expect(actions.elements.map((e) => [e.action_id, parseButtonValue(e.value), e.style])).toEqual([
      ['rekick_approve', { jobId: 'j-1', host: 'buildarm-03' }, 'primary'],
      ['rekick_deny', { jobId: 'j-1', host: 'buildarm-03' }, 'danger'],
    ]);
    // A button posted before buttons named their job carried the host only: read as such (no job), and refused later.
    expect(parseButtonValue('buildarm-03')).toEqual({ host: 'buildarm-03' });
    for (const odd of [undefined, '', '{', '{"host":"buildarm-03"}', 'buildarm-03; rm', '{"job":1,"host":"x"}']) expect(parseButtonValue(odd), odd).toBeUndefined();
    for (const state of ['running', 'succeeded', 'denied', 'failed'] as const) {
      expect(parentBlocks(job(state, 7), NOW).some((b) => b.type === 'actions'), state).toBe(false);
    }
  });

  it('shows a failure in one line and escapes what came from people and hosts', () => {
    const failed = job('failed', 2, { error: { step: 'stage-installer', code: 'E', message: 'curl <404> & more' } });
    const text = JSON.stringify(parentBlocks(failed, NOW));
    expect(text).toContain('failed at stage-installer: curl &lt;404&gt; &amp; more');
    expect(text).toContain('kevin &lt;admin&gt;');
    expect(escapeMrkdwn('<@U1> & <!channel>')).toBe('&lt;@U1&gt; &amp; &lt;!channel&gt;');
  });
});
