/**
 * What can stop a running step early: a cancel (only an abortable step, or the wait before a retry) and a shutdown
 * (always). The runner holds one; the pipeline sets its handles while a step attempt or a backoff is under way.
 */
import { CancelledError, CodedError } from '../errors';

export class ShutdownError extends CodedError {
  constructor() {
    super('E_SHUTDOWN', 'rekick is shutting down; the step resumes at the next start');
  }
}

export class StepAborts {
  /** The attempt under way, and whether a cancel may interrupt it. */
  controller?: AbortController;
  abortable = false;
  /** The wait before a step's next attempt (a cancel or a shutdown ends it at once). */
  backoff?: AbortController;
  /** A shutdown was asked: no further step or attempt starts. */
  shuttingDown = false;

  /** A cancel was recorded: the wait before the next attempt ends at once (the pipeline then stops the step). */
  cancelBackoff(): void {
    this.backoff?.abort(new CancelledError());
  }

  /** A cancel is saved: the attempt under way is aborted if the step is abortable (otherwise it runs to its end). */
  cancelAttempt(): void {
    if (this.abortable) this.controller?.abort(new CancelledError());
  }

  shutdown(): void {
    this.shuttingDown = true;
    this.controller?.abort(new ShutdownError());
    this.backoff?.abort(new ShutdownError());
  }
}
