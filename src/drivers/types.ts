/** A host kind's way to stage and start an installer (steps 3 and 4). */
import type { Config, HostConfig } from '../config/schema';
import type { RemoteConnector } from '../ssh/types';

export interface DriverContext {
  host: HostConfig;
  config: Config;
  connector: RemoteConnector;
  signal: AbortSignal;
  timeoutMs: number;
  progress(message: string): void;
  /** Remote output lines, for the job's output tail. */
  output(line: string): void;
  /** Whether another host (e.g. a guest's virthost) has an active job; the virt driver refuses then. Optional. */
  hostInJob?(name: string): boolean;
}

/** What a disarm found and did on the host. */
export interface DisarmResult {
  /** Whether anything of rekick's installer was armed: next_entry naming it, or its grub entry. */
  armed: boolean;
  /** What was found and done, in a few words. */
  detail: string;
}

export interface HostDriver {
  /** Step 3. Idempotent: a rerun replaces what an earlier run staged. */
  stage(ctx: DriverContext): Promise<void>;
  /** Step 4. Ends when the reinstall has started (bare metal: SSH has gone away; virt: virt-install started). */
  reinstall(ctx: DriverContext): Promise<void>;
  /**
   * Undoes what `stage` armed, so that the next ordinary reboot boots the old system (a job cancelled or failed
   * before the installer booted). Idempotent. Only a driver that arms something on the host has it (bare metal);
   * a virt guest's stage destroyed its VM, which no command brings back.
   */
  disarm?(ctx: DriverContext): Promise<DisarmResult>;
}
