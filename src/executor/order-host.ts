/** The executor as its orders (order-*.ts) see it: the store, the hosts, its runners and what it records and says. */
import type { Logger } from 'pino';
import type { Store } from '../../store/store';
import type { Config, HostConfig } from '../config/schema';
import type { Step } from '../steps/types';
import type { AuditEntry, ExecutorEvent, Job } from '../model';
import type { InstallerDisarms } from './installer-disarms';
import type { JobEndingIo } from './job-ending';
import type { JobLauncher } from './job-launcher';

export interface OrderHost {
  readonly config: Config;
  readonly store: Store;
  readonly log: Logger;
  readonly steps: Step[];
  readonly disarms: InstallerDisarms;
  readonly launcher: JobLauncher;
  readonly ending: JobEndingIo;
  readonly stopping: boolean;
  newId(): string;
  host(name: string): HostConfig | undefined;
  resolveHosts(names: string[]): HostConfig[];
  queue(): Job[];
  assertStoreWritable(): void;
  audit(entry: Omit<AuditEntry, 'at'>): Promise<void>;
  emit(event: ExecutorEvent): void;
  checkpoint?(point: string, job: Job): void;
  finishCancelled(job: Job, options?: { background?: boolean }): Promise<void>;
}
