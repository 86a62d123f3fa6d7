/** The pure parts of the step pipeline: the backoff before a retry, and which step starts with the previous one's end. */
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, nextStepToRun } from '../../src/executor/step-pipeline';
import { queuedJob } from '../../src/executor/job-transitions';

const retry = { attempts: 5, backoff: 100, maxBackoff: 1_000 };

describe('step pipeline', () => {
  it('backs off exponentially from retry.backoff, capped at retry.maxBackoff, with ±20% jitter', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelayMs(retry, a, () => 0.5))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelayMs(retry, 1, () => 0)).toBeCloseTo(80);
    expect(backoffDelayMs(retry, 1, () => 1)).toBeCloseTo(120);
    expect(backoffDelayMs(retry, 9, () => 1)).toBeCloseTo(1200);
  });

  it('the next step to run skips skipped steps and never is enable (it runs after the approval)', () => {
    const job = queuedJob({ id: 'j', host: 'h', requestedBy: { source: 'irc', id: 'k', display: 'k' }, origin: {} as never, reason: undefined, options: {} }, (i) => i === 1 || i === 2, 'T');
    expect(nextStepToRun(job, 0)).toBe(3);
    expect(nextStepToRun(job, 5)).toBe(6);
    expect(nextStepToRun(job, 6)).toBeUndefined();
  });
});
