/**
 * A new rolling run from `!rolling start`: checks what it can refuse (UserError, nothing saved), then fixes the
 * order (least recently reinstalled first) and the slots once, so a restart continues rather than starts over.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/store';
import type { RollingStartOptions } from './types';
import type { Config } from '../config/schema';
import { UserError } from '../errors';
import type { ExecutorApi } from '../executor/types';
import type { RollingLeftOut, RollingRun } from '../model';
import { slotsFor, virthostNeverFits } from './capacity';
import { describeLeftOut } from '../present/rolling-lines';
import { orderHosts } from './order';

export interface NewRun {
  run: RollingRun;
  /** Hosts left out because they were already in a job (one-shot runs). */
  skipped: string[];
}

export function createRun(options: RollingStartOptions, deps: { executor: ExecutorApi; store: Store; config: Config; id: string; now: Date }): NewRun {
  const { executor, store, config, now } = deps;
  if (options.continuous && config.rolling.cadence === undefined) {
    throw new UserError('--continuous needs rolling.cadence in the config (e.g. 14d); no run started', 'E_NO_CADENCE');
  }
  const fraction = options.fraction ?? config.rolling.fraction;
  if (!(fraction > 0 && fraction <= 1)) throw new UserError(`expected a fraction in (0, 1], got ${fraction}; no run started`, 'E_USAGE');
  const hosts = options.group ? executor.resolveHosts([`group:${options.group}`]) : config.hosts;
  const slots = slotsFor(fraction, hosts.length);
  // A virthost goes with its guests: one that with them needs more than the run can ever have in flight is left out.
  const leftOut = hosts
    .filter((h) => h.kind === 'virthost')
    .map((h) => virthostNeverFits(h, config.hosts, slots, config.rolling.maxPerArch))
    .filter((x): x is RollingLeftOut => x !== undefined);
  const out = new Set(leftOut.map((x) => x.host));
  // A continuous run keeps every host: one busy now is simply not due until its job ends.
  const skipped = options.continuous ? [] : hosts.filter((h) => store.activeJob(h.name)).map((h) => h.name);
  const order = orderHosts(
    hosts.filter((h) => !skipped.includes(h.name) && !out.has(h.name)),
    (n) => store.getHost(n),
  );
  if (!order.length) {
    const scope = options.group ? `group:${options.group}` : 'the fleet';
    if (!leftOut.length) throw new UserError(`every host of ${scope} is already in a job; no run started`, 'E_NOTHING_TO_ROLL');
    const rest = skipped.length ? '; the other hosts are already in a job' : '';
    throw new UserError(`nothing to roll in ${scope}: ${leftOut.map(describeLeftOut).join('; ')}${rest}; no run started`, 'E_NOTHING_TO_ROLL');
  }
  const kinds = new Map(hosts.map((h) => [h.name, h.kind]));
  const virthosts = order.filter((h) => kinds.get(h) === 'virthost');
  const run: RollingRun = {
    id: deps.id,
    state: 'running',
    startedAt: now.toISOString(),
    startedBy: options.by,
    origin: options.origin,
    fraction,
    group: options.group,
    continuous: options.continuous,
    order,
    jobs: {},
    done: [],
    failed: [],
    slots,
    size: hosts.length,
    acknowledgedFailures: 0,
    lastProgressAt: now.toISOString(),
    ...(virthosts.length ? { virthosts } : {}),
    ...(leftOut.length ? { leftOut } : {}),
  };
  return { run, skipped };
}

/** A fresh run id: the time (base 36) and a little randomness. */
export function newRunId(): string {
  return `r-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
}
