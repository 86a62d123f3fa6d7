/** The activities handed to the executor: connection layers per job over shared ones, and the Koji comment. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createExecutorActivities } from '../../src/steps/activities';
import { JobConnections } from '../../src/ssh/job-connections';
import { SharedConnections } from '../../src/ssh/shared-connections';
import type { StepDeps } from '../../src/steps/types';

describe('executor activities', () => {
  it('each job gets its own connection layer over the connections shared between jobs; the comment goes to Koji', async () => {
    const comments: [string, string][] = [];
    const base = {
      config: {} as StepDeps['config'],
      koji: { setHostComment: async (h: string, c: string) => void comments.push([h, c]) } as unknown as StepDeps['koji'],
      connector: {} as StepDeps['connector'],
      drivers: {} as StepDeps['drivers'],
      log: pino({ level: 'silent' }),
    };
    const activities = createExecutorActivities(base);
    expect(activities.deps.connector).toBeInstanceOf(SharedConnections);
    const a = activities.forJob();
    const b = activities.forJob();
    expect(a.deps.connector).toBeInstanceOf(JobConnections);
    expect(a.deps.connector).not.toBe(b.deps.connector);
    expect(a.deps.koji).toBe(base.koji);
    await a.close();
    await activities.setHostComment('b1', 'rekick: cancelled');
    expect(comments).toEqual([['b1', 'rekick: cancelled']]);
    await activities.closeAll();
  });
});
