/**
 * Wordings the executor and the steps still define beside src/present/ read exactly as present's do, so each
 * caller can switch to present's (describeJobPosition, the Koji comment's name and one-line text).
 */
import { describe, expect, it } from 'vitest';
import { describeJobPosition as executorPosition } from '../../src/executor/job-states';
import { describeJobPosition } from '../../src/present/job-position';
import { commentName } from '../../src/present/identity';
import { commentLine } from '../../src/present/one-line';
import { oneLine as kojiOneLine, who as kojiWho } from '../../src/steps/koji-comments';
import type { Identity, Job } from '../../src/model';
import { makeJob } from '../fakes/jobs';

const STATES: Job['state'][] = ['queued', 'running', 'awaiting-approval', 'enabling', 'failed', 'succeeded', 'cancelled', 'denied'];

describe('present and its twins', () => {
  it('a job position reads the same in every state and step', () => {
    for (const state of STATES)
      for (const current of [0, 3, 7]) {
        const job = makeJob({ host: 'buildarm-01', state, current });
        expect(describeJobPosition(job)).toBe(executorPosition(job));
        const disarming = { ...job, disarm: { outcome: 'pending' as const, at: '2026-01-01T00:00:00Z' } } as Job;
        expect(describeJobPosition(disarming)).toBe(executorPosition(disarming));
      }
  });

  it('a Koji comment names a person and flattens text the same', () => {
    const people: Identity[] = [
      { source: 'irc', id: 'kevin', display: 'kev' },
      { source: 'irc', id: 'kevin', display: 'kevin' },
      { source: 'slack', id: undefined, display: 'guest' },
    ];
    for (const p of people) expect(commentName(p)).toBe(kojiWho(p));
    for (const t of ['a\r\nb', 'x\x01y\x7f', 'c1 \x85 kept', `  ${'z'.repeat(300)}  `]) expect(commentLine(t)).toBe(kojiOneLine(t));
  });
});
