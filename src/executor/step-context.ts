/**
 * What a step sees while it runs (StepContext): the live job and host, its abort signal, and callbacks that record
 * what it reports (progress, output lines, an accepted host key) through the job's transitions.
 */
import type { Store } from '../../store/store';
import type { HostConfig } from '../config/schema';
import { hostTarget } from '../steps/host-target';
import type { Step, StepContext, StepDeps } from '../steps/types';
import type { ExecutorEvent, Job } from '../model';
import type { JobEvent } from './job-events';
import type { JobSaver } from './job-saver';

/** The runner, as a step's context needs it. */
export interface StepContextHost {
  readonly job: Job;
  readonly host: HostConfig;
  readonly deps: StepDeps;
  readonly store: Store;
  readonly saver: JobSaver;
  /** Applies a report to the live job; false when the job's state takes no reports (it is left as it is). */
  report(event: JobEvent): boolean;
  emit(event: ExecutorEvent): void;
}

export function stepContext(r: StepContextHost, step: Step, index: number, signal: AbortSignal, timeoutMs: number): StepContext {
  const { job, host, deps } = r;
  return {
    ...deps,
    log: deps.log.child({ job: job.id, host: host.name, step: step.name }),
    job,
    host,
    target: hostTarget(host),
    signal,
    timeoutMs,
    progress: (message) => {
      if (job.steps[index]!.progress === message) return;
      if (!r.report({ type: 'step-progress', index, message })) return;
      r.emit({ type: 'step-progress', job, step: step.name, message });
      r.saver.saveProgress();
    },
    output: (line) => void r.report({ type: 'step-output', index, line }),
    save: () => r.saver.save(),
    hostInJob: (name) => {
      const other = r.store.activeJob(name);
      return Boolean(other && other.id !== job.id);
    },
    jobOf: (id) => r.store.peekJob(id),
    hostKeyChanged: (change) => {
      if (!r.report({ type: 'host-key-accepted', previous: change.previous, fingerprint: change.fingerprint, at: new Date().toISOString() })) return;
      r.emit({ type: 'host-key-changed', job, previous: change.previous, fingerprint: change.fingerprint });
      r.saver.saveInBackground();
    },
  };
}
