/**
 * The shared executor's public face: what commands, the CLI, the rolling scheduler and the HTTP API may ask of
 * it. One executor per process; every source of work goes through it. Methods that refuse throw UserError with
 * a one-line reason and change nothing.
 */
import type { Config, HostConfig } from '../config/schema';
import type { Store } from '../../store/store';
import type { ExecutorEvent, Identity, Job, Origin } from '../model';

export interface RequestContext {
  by: Identity;
  origin: Origin;
}

export interface ReinstallRequest extends RequestContext {
  /** Host names, already expanded from groups and validated by the caller (the executor validates again). */
  hosts: string[];
  reason?: string;
  forceDrain?: boolean;
  rollingRunId?: string;
}

/** How an approval is given. */
export interface ApproveOptions {
  /** Also hosts that were disabled in Koji before rekick touched them. */
  override?: boolean;
  /** Given by the rolling scheduler (rolling.autoApprove), not a person. */
  auto?: boolean;
  /**
   * host -> the job the approver meant (a Slack button, `!approve all` after its check of what was announced):
   * a host whose waiting job is another one is refused, never approved in its place.
   */
  jobIds?: Readonly<Record<string, string>>;
}

export interface DenyOptions {
  reason?: string;
  /** The job the approver meant (a Slack button): refused when the host's waiting job is another one. */
  jobId?: string;
}

export type ExecutorListener = (event: ExecutorEvent) => void;

export interface ExecutorApi {
  readonly config: Config;
  readonly store: Store;

  /** Posts a notice to every chat (the origin room first, when given). */
  notify(level: 'info' | 'warn' | 'error', text: string, origin?: Origin): void;

  /** Subscribes to every event; returns the unsubscribe function. */
  on(listener: ExecutorListener): () => void;

  /** Looks a host up in the config (undefined when unknown). */
  host(name: string): HostConfig | undefined;
  /** Expands `group:NAME` and plain names; throws UserError naming the first unknown one. */
  resolveHosts(names: string[]): HostConfig[];

  /**
   * Queues one job per host: all or nothing (a busy or unknown host refuses the whole request). A virthost comes
   * with one linked job per configured guest (src/executor/virthost-guests.ts), returned after its own.
   */
  reinstall(request: ReinstallRequest): Promise<Job[]>;
  /**
   * Approves hosts awaiting approval (`all`: every one waiting at this instant, except those needing --override or
   * being cancelled); returns the jobs approved. A job whose cancel is pending is never approved.
   */
  approve(hosts: string[] | 'all', ctx: RequestContext & ApproveOptions): Promise<Job[]>;
  deny(host: string, ctx: RequestContext & DenyOptions): Promise<Job>;
  /** Stops the job at its next safe point; the host stays disabled. */
  cancel(host: string, ctx: RequestContext): Promise<Job>;
  /** Resumes a failed job from the step that failed. */
  retry(host: string, ctx: RequestContext): Promise<Job>;

  /** Active jobs and the most recent finished ones. */
  jobs(options?: { host?: string; limit?: number }): Job[];
  /** Jobs awaiting approval, oldest first. */
  queue(): Job[];

  /** Resumes unfinished jobs from the store. */
  start(): Promise<void>;
  /** Stops taking work, lets running steps reach a safe point (or aborts them after `graceMs`), persists. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves when every running job is idle (finished, failed, or waiting for approval). For tests and the CLI. */
  idle(): Promise<void>;
}
