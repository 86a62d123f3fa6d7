/** What an executor is built from: the step deps, the store, the steps, and the hooks tests and the lab use. */
import type { Store } from '../../store/store';
import type { ExecutorActivities } from '../steps/activities';
import type { Step, StepDeps } from '../steps/types';
import type { Job } from '../model';

export interface ExecutorOptions extends StepDeps {
  store: Store;
  /** The pipeline's eight steps, in order (createSteps() in production; scripted ones in tests). */
  steps: Step[];
  /** Called at each durable transition of a job (crash tests kill the process there). */
  checkpoint?: (point: string, job: Job) => void;
  /** Job ids; tests may make them predictable. */
  newId?: () => string;
  /** While the store cannot be written, how often to try a write again (default 5 s). */
  storeRetryMs?: number;
  /** The connection layers and the Koji comment (default: createExecutorActivities over these deps). */
  activities?: ExecutorActivities;
}
