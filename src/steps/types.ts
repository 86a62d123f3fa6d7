/** A pipeline step: a name, its time bound and retry policy as data, and an idempotent `run`. */
import type { Logger } from 'pino';
import type { Config, HostConfig } from '../config/schema';
import type { HostDriver } from '../drivers/types';
import type { KojiClient } from '../koji/types';
import type { HostTarget, RemoteConnector } from '../ssh/types';
import type { Frozen } from '../../store/store';
import type { Job, StepName } from '../model';

export interface StepDeps {
  config: Config;
  koji: KojiClient;
  connector: RemoteConnector;
  drivers: Record<'baremetal' | 'virt', HostDriver>;
  log: Logger;
}

export interface StepContext extends StepDeps {
  /** The live job: a step may record what it must remember across a restart in `job.data` and the typed fields. */
  job: Job;
  host: HostConfig;
  target: HostTarget;
  /** Aborted on cancel (abortable steps only) and on the step's timeout. */
  signal: AbortSignal;
  timeoutMs: number;
  /** Reports what the step is doing or waiting for (shown on !status and in chat when it changes). */
  progress(message: string): void;
  /** One line of remote output, for the job's output tail. */
  output(line: string): void;
  /** Persists the job now (after recording something a restart must not lose). */
  save(): Promise<void>;
  /** Whether another job is active on this host (the virt driver refuses while the virthost is in a job). */
  hostInJob(name: string): boolean;
  /** Another job as the store holds it now, read-only (a guest's job waits for its virthost's job, and back). */
  jobOf(id: string): Frozen<Job> | undefined;
  /** A changed host key was accepted: recorded on the job and posted to chat. */
  hostKeyChanged(change: { previous?: string; fingerprint: string }): void;
}

/** What a step needs to say what it would do (the dry-run plan). */
export interface PlanContext {
  config: Config;
  /** `--force-drain` was given. */
  forceDrain?: boolean;
  /** The host is a guest whose virthost is reinstalled in the same request. */
  withVirthost?: boolean;
}

export interface Step {
  name: StepName;
  /** The step's bound, from the config (and the job, for a step that waits for linked jobs). */
  timeoutMs(config: Config, job?: Job): number;
  /** Whether the executor may run it again by itself after a retryable error. */
  retry: boolean;
  /** Whether a cancel may interrupt it mid-way (else it runs to its end, then the job stops). */
  abortable: boolean;
  /** Whether the step applies to this host (a virthost is no Koji builder: no disable/drain/enable). */
  appliesTo?(host: HostConfig): boolean;
  run(ctx: StepContext): Promise<void>;
  /** What the step would do for this host: its line of the dry-run plan (the production steps all have one). */
  describe?(host: HostConfig, plan: PlanContext): string;
}
