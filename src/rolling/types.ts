/** The rolling scheduler's public face: the RollingApi the chat commands call, plus its own lifecycle. */
import type { Logger } from 'pino';
import type { Config } from '../config/schema';
import type { ExecutorApi, RequestContext } from '../executor/types';
import type { Frozen, Store } from '../../store/store';
import type { Job, Origin, RollingRun, StepName } from '../model';

export interface RollingStartOptions extends RequestContext {
  /** Share of the fleet (or group) in flight at once; the config's rolling.fraction when absent. */
  fraction?: number;
  group?: string;
  continuous: boolean;
}

/**
 * The rolling scheduler as commands see it (implemented elsewhere). Each method refuses with UserError; a string
 * it returns is replied to the operator as is (lines separated by \n).
 */
export interface RollingApi {
  start(options: RollingStartOptions): Promise<string | void>;
  pause(ctx: RequestContext): Promise<string | void>;
  resume(ctx: RequestContext): Promise<string | void>;
  stop(ctx: RequestContext): Promise<string | void>;
  /** The run's state, one line each; an empty list when there is no run. */
  status(): string[];
}

/** The executor as the scheduler needs it: its API plus notices to every chat (Executor.notify). */
export type RollingExecutor = ExecutorApi & {
  notify(level: 'info' | 'warn' | 'error', text: string, origin?: Origin): void;
};

export interface RollingSchedulerOptions {
  executor: RollingExecutor;
  store: Store;
  config: Config;
  log: Logger;
  /** The time for cadence, window and notice pacing (tests pin it). Default: the real clock. */
  clock?: () => Date;
  /** How often the loop looks again without an event (window opening, hosts coming due). Default 30s. */
  tickMs?: number;
  /** A progress line without a host ending at most this often. Default 5 minutes. */
  progressEveryMs?: number;
  /** Run ids; tests may make them predictable. */
  newId?: () => string;
}

export interface RollingScheduler extends RollingApi {
  /** Resumes the run held in the store (if any), listens to the executor and starts the loop. */
  activate(): Promise<void>;
  /** Stops the loop (the run stays in the store as it is; jobs are the executor's). */
  close(): Promise<void>;
  /** One pass of the loop now; resolves when it (and any pass it triggered) is done. */
  tick(): Promise<void>;
  /** Resolves when no pass is running or pending. */
  settled(): Promise<void>;
  /** The run as held (a copy), if any. */
  current(): RollingRun | undefined;
}

/** Where a rolling run's hosts stand: done, failed, in flight (waiting for approval among them), left. */
export interface RollingTally {
  done: string[];
  failed: RollingRun['failed'];
  /** Hosts of the run with an active job (those waiting for approval included). */
  inFlight: Frozen<Job>[];
  /** The in-flight hosts waiting for approval. */
  waiting: string[];
  /** Hosts not yet started (or, in a continuous run, not reinstalled this round), in the run's order. */
  left: string[];
}

/** A host of the run whose job ended since the last pass. */
export interface HostEnding {
  host: string;
  outcome: 'done' | 'failed';
  step?: StepName;
  message?: string;
}
