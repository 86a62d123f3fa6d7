/** `!rolling start`: refuses while a run is live, else makes the new run and its opening line. */
import { UserError } from '../errors';
import type { RollingStartOptions } from './types';
import type { RollingRun } from '../model';
import { formatRoughDuration } from '../present/duration';
import { estimateRunMs, runTypicalDuration } from './estimate';
import { createRun, newRunId, type NewRun } from './new-run';
import { renderCounts, renderStart } from '../present/rolling-lines';
import { isLive } from './run-transitions';
import { tallyRun } from './tally';
import type { RollingSchedulerOptions } from './types';
import type { RollingWindow } from './window';

type Deps = Pick<RollingSchedulerOptions, 'executor' | 'store' | 'config' | 'newId'>;

/** The new run (not yet saved), or E_ROLLING_BUSY while `current` is live. */
export function startNewRun(deps: Deps, current: RollingRun | undefined, options: RollingStartOptions, clock: () => Date): NewRun {
  const { executor, store, config } = deps;
  if (isLive(current)) {
    const t = tallyRun(current, store);
    throw new UserError(`rolling run ${current.id} is ${current.state} (${renderCounts(current, t)}); !rolling stop ends it first`, 'E_ROLLING_BUSY');
  }
  return createRun(options, { executor, store, config, id: (deps.newId ?? newRunId)(), now: clock() });
}

/** The line that says a run started: its hosts, the estimate from past reinstalls, cadence and window. */
export function renderStartLine(deps: Deps, run: RollingRun, skipped: string[], window: RollingWindow | undefined): string {
  const { store, config } = deps;
  const typical = runTypicalDuration(run, store);
  return renderStart({
    run,
    skipped,
    estimate: typical && { ms: estimateRunMs(run.order.length, run.slots!, typical.ms), samples: typical.samples },
    cadence: config.rolling.cadence !== undefined ? formatRoughDuration(config.rolling.cadence) : undefined,
    window: window?.text,
  });
}
