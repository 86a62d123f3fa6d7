/**
 * The Koji comment a job leaves on its host when it ends without enabling it (cancelled, failed, denied): set only
 * once rekick has disabled the host (a job that never did leaves Koji alone), recorded on the job; a failure is logged.
 */
import type { Logger } from 'pino';
import type { ExecutorActivities } from '../steps/activities';
import type { Job } from '../model';
import { applyInPlace } from './job-transitions';

export async function setHostComment(job: Job, comment: string, activities: Pick<ExecutorActivities, 'setHostComment'>, log: Logger): Promise<void> {
  if (job.steps[0]!.status !== 'succeeded') return;
  try {
    await activities.setHostComment(job.host, comment);
    applyInPlace(job, { type: 'comment-set', comment });
  } catch (err) {
    log.warn({ err, host: job.host }, 'could not set the Koji comment');
  }
}
