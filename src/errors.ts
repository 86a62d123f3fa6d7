/**
 * rekick's errors. Every error an operator may see is a CodedError: a stable `code` to grep and document, a
 * message that says what to do, and the `cause` kept for logs. Unknown errors are wrapped once (`toCodedError`).
 */
import { formatDuration } from './present/duration';

export class CodedError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A refusal of a chat command or CLI call: shown to the user as one line; nothing changed. */
export class UserError extends CodedError {
  constructor(message: string, code = 'E_REFUSED') {
    super(code, message);
  }
}

/** A config file that cannot be used: every problem at once, each with its key path. */
export class ConfigError extends CodedError {
  readonly problems: string[];
  constructor(problems: string[], file?: string) {
    super('E_CONFIG', `${file ? `${file}: ` : ''}invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** The state file cannot be read or written. */
export class StoreError extends CodedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_STORE', message, options);
  }
}

/** A step of a job failed. `retryable` says whether the executor may try it again by itself. */
export class StepError extends CodedError {
  readonly retryable: boolean;
  /** Last lines of remote output, when the failure came from a host. */
  readonly outputTail: string[];
  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; outputTail?: string[]; cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.retryable = options.retryable ?? false;
    this.outputTail = options.outputTail ?? [];
  }
}

/** A step ran past its timeout. */
export class StepTimeoutError extends StepError {
  /** `lastState`: what the step last reported it was waiting for (e.g. wait-ssh's "down (no TCP connection)"). */
  constructor(what: string, timeoutMs: number, options: { outputTail?: string[]; lastState?: string } = {}) {
    const last = options.lastState ? `; last state: ${options.lastState}` : '';
    super('E_TIMEOUT', `${what} did not finish within ${formatDuration(timeoutMs)}${last}`, {
      retryable: false,
      outputTail: options.outputTail,
    });
  }
}

/** The job was cancelled by an operator; steps see it through their AbortSignal. */
export class CancelledError extends CodedError {
  constructor(message = 'cancelled') {
    super('E_CANCELLED', message);
  }
}

/**
 * Why an aborted signal stopped the work: the reason its owner gave (a step timeout, a cancel), else — a bare
 * `abort()`, whose reason is the platform's AbortError — a CancelledError.
 */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name !== 'AbortError' ? reason : new CancelledError();
}

export function toCodedError(err: unknown, code = 'E_INTERNAL'): CodedError {
  if (err instanceof CodedError) return err;
  if (err instanceof Error) return new CodedError(code, err.message, { cause: err });
  return new CodedError(code, String(err));
}

/** Whether an error is worth retrying by itself: explicit on StepError, else false. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof StepError) return err.retryable;
  if (err instanceof CodedError && 'retryable' in err) return Boolean((err as { retryable?: unknown }).retryable);
  return false;
}

/** Kept here for the modules that format a duration beside their errors; the one definition is src/present/duration.ts. */
