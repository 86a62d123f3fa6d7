/** `!rolling status`: the run's lines, with what it waits for (the window) and, continuous, the next host due. */
import type { RollingRun } from '../model';
import { runEtaMs } from './estimate';
import { nextDueLine } from './next-due';
import { renderStatus } from '../present/rolling-lines';
import { isLive } from './run-transitions';
import { tallyRun } from './tally';
import type { RollingSchedulerOptions } from './types';
import type { RollingWindow } from './window';

type Deps = Pick<RollingSchedulerOptions, 'store' | 'config'>;

export function runStatus(deps: Deps, run: RollingRun, window: RollingWindow | undefined, clock: () => Date): string[] {
  const { store, config } = deps;
  const t = tallyRun(run, store);
  const now = clock();
  let waitingFor: string | undefined;
  if (window && run.state === 'running' && !window.contains(now)) {
    const next = window.nextOpen(now);
    waitingFor = `outside the window ${window.text}: no host starts until ${next ? next.toISOString() : 'the window opens'}`;
  }
  return renderStatus({
    run,
    tally: t,
    etaMs: runEtaMs(run, t, store),
    budget: config.rolling.failureBudget,
    waitingFor,
    nextDue: run.continuous && isLive(run) ? nextDueLine(run, t, config.rolling.cadence, (h) => store.getHost(h), clock) : undefined,
  });
}
