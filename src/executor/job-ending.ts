/**
 * The one end of a job that ended cancelled or failed, once that state (with a pending disarm, if any) is saved
 * and the disarm finished: the Koji comment saying why the host stays disabled, the last write, the host's record
 * (a failure), and the line in chat. The runner (a failure), the executor (a cancel) and a disarm resumed at start
 * all end a job here.
 */
import { cancelComment, failureComment } from '../present/koji-comments';
import { STEP_NAMES, type ExecutorEvent, type HostRecord, type Job } from '../model';
import { currentStep } from '../present/step-tag';

export interface JobEndingIo {
  setComment(job: Job, comment: string): Promise<void>;
  save(job: Job): Promise<void>;
  getHost(name: string): HostRecord | undefined;
  saveHost(record: HostRecord): Promise<void>;
  emit(event: ExecutorEvent): void;
}

export async function concludeEndedJob(job: Job, io: JobEndingIo): Promise<void> {
  const step = job.error?.step ?? currentStep(job);
  const cancelled = job.state === 'cancelled' && job.cancel;
  await io.setComment(job, cancelled ? cancelComment(job, job.cancel!.by, step) : failureComment(job, step, job.error?.message ?? 'failed'));
  await io.save(job);
  if (cancelled) {
    io.emit({ type: 'cancelled', job, by: job.cancel!.by });
    return;
  }
  const rec = io.getHost(job.host) ?? { name: job.host };
  await io.saveHost({ ...rec, lastJobId: job.id, lastOutcome: 'failed' });
  const index = STEP_NAMES.indexOf(step);
  const record = job.steps[index]!;
  const error = record.error ?? { code: job.error?.code ?? 'E_INTERNAL', message: job.error?.message ?? 'failed' };
  io.emit({ type: 'step-failed', job, step, index, error, outputTail: record.outputTail ?? [] });
}
