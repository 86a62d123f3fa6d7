/** A job as the executor would have queued it: every step pending. Tests override what they need. */
import { STEP_NAMES, type Job } from '../../src/model';

export function makeJob(partial: Partial<Job> & { host: string }): Job {
  const now = partial.createdAt ?? new Date().toISOString();
  return {
    id: `j-${partial.host}`,
    state: 'running',
    createdAt: now,
    updatedAt: now,
    requestedBy: { source: 'irc', id: 'kevin', display: 'kevin' },
    origin: { adapter: 'irc', room: '#builders' },
    options: {},
    steps: STEP_NAMES.map((name) => ({ name, status: 'pending', attempts: 0 })),
    current: 0,
    data: {},
    ...partial,
  };
}
