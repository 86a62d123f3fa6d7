/**
 * What the executor needs of the outside world besides the steps, behind narrow interfaces: the SSH connection
 * layers (shared between jobs, and one per job) and the Koji host comment. Built here, handed to the executor.
 */
import { JobConnections } from '../ssh/job-connections';
import { SharedConnections } from '../ssh/shared-connections';
import type { StepDeps } from './types';

/** One job's activities: the deps its steps run with (its own connection layer), closed when the job stops. */
export interface JobActivities {
  readonly deps: StepDeps;
  close(): Promise<void>;
}

export interface ExecutorActivities {
  /** The deps for work outside a job's steps (disarming an installer): connections to virthosts are shared. */
  readonly deps: StepDeps;
  forJob(): JobActivities;
  /** Sets the host's comment in Koji (throws as the Koji client does). */
  setHostComment(host: string, comment: string): Promise<void>;
  /** Closes the connections shared between jobs (at shutdown). */
  closeAll(): Promise<void>;
}

export function createExecutorActivities(base: StepDeps): ExecutorActivities {
  // Connections to hosts that stay up (virthosts) are shared by the jobs of their guests, one after another.
  const shared = new SharedConnections(base.connector);
  const deps: StepDeps = { config: base.config, koji: base.koji, connector: shared, drivers: base.drivers, log: base.log };
  return {
    deps,
    forJob() {
      // One step hands a connection to the next instead of a new login.
      const connections = new JobConnections(shared);
      return { deps: { ...deps, connector: connections }, close: () => connections.closeAll() };
    },
    setHostComment: (host, comment) => deps.koji.setHostComment(host, comment),
    closeAll: () => shared.closeAll(),
  };
}
