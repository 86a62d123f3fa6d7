/**
 * Step 2: wait until the host's open Koji tasks (OPEN or ASSIGNED on this host) have finished, reporting what it
 * waits for, bounded by `timeouts.drain` (counted from the first time the step started, across restarts). With
 * `--force-drain` the tasks are freed with Koji's freeTask, so the hub hands them to another builder.
 */
import { StepError } from '../errors';
import { formatDuration } from '../present/duration';
import type { KojiTask } from '../koji/types';
import type { Step, StepContext } from './types';
import { isKojiBuilder } from './plan-text';
import { abortableSleep } from '../util/sleep';
import { KOJI_HOST_ID } from './disable';

export const drainStep: Step = {
  name: 'drain',
  // The step bounds itself by timeouts.drain (to name the tasks left); the executor's bound is a safety net.
  timeoutMs: (c) => c.timeouts.drain + Math.max(60_000, 3 * c.koji.pollInterval),
  retry: true,
  abortable: true,
  appliesTo: isKojiBuilder,
  describe: (host, { config, forceDrain }) =>
    isKojiBuilder(host)
      ? `wait up to ${config.timeouts.drain / 1000}s for OPEN/ASSIGNED tasks on ${host.name}${forceDrain ? ' (--force-drain: freeTask each)' : ''}`
      : 'skipped',
  async run(ctx) {
    const { job, host, koji, config } = ctx;
    const signal = ctx.signal;
    const hostId = await kojiHostId(ctx);
    // The bound counts from the first start of the step, across restarts (a retry starts a new window).
    if (typeof job.data['drain.startedAt'] !== 'number') {
      job.data['drain.startedAt'] = Date.now();
      await ctx.save();
    }
    const deadline = (job.data['drain.startedAt'] as number) + config.timeouts.drain;
    let last = '';
    for (;;) {
      let tasks = await koji.listOpenTasks(hostId, { signal });
      if (tasks.length && job.options.forceDrain) {
        for (const t of tasks) await koji.freeTask(t.id, { signal });
        ctx.progress(`freed ${tasks.length} task${tasks.length === 1 ? '' : 's'} so the hub gives them to another builder: ${describeTasks(tasks, ctx)}`);
        tasks = await koji.listOpenTasks(hostId, { signal });
      }
      if (!tasks.length) return;
      const line = `waiting for ${tasks.length} open task${tasks.length === 1 ? '' : 's'}: ${describeTasks(tasks, ctx)}`;
      const ids = tasks.map((t) => t.id).join(',');
      if (ids !== last) ctx.progress(line);
      last = ids;
      if (Date.now() >= deadline) {
        throw new StepError(
          'E_DRAIN_TIMEOUT',
          `${tasks.length} task${tasks.length === 1 ? '' : 's'} still open after ${formatDuration(config.timeouts.drain)}: ${describeTasks(tasks, ctx)}; nothing was freed (use !reinstall ${host.name} --force-drain to free them)`,
        );
      }
      await abortableSleep(Math.min(config.koji.pollInterval, Math.max(0, deadline - Date.now())), ctx.signal);
    }
  },
};

/** The host's Koji id: as the disable step read it, or (a job from before it kept the id) from Koji. */
async function kojiHostId(ctx: StepContext): Promise<number> {
  const known = ctx.job.data[KOJI_HOST_ID];
  if (typeof known === 'number') return known;
  const kojiHost = await ctx.koji.getHost(ctx.host.name, { signal: ctx.signal });
  if (!kojiHost) throw new StepError('E_KOJI_UNKNOWN_HOST', `Koji does not know a host named ${ctx.host.name}`);
  return kojiHost.id;
}

function describeTasks(tasks: KojiTask[], ctx: StepContext): string {
  const web = ctx.config.koji.weburl?.replace(/\/$/, '');
  return tasks
    .slice(0, 10)
    .map((t) => {
      const since = Date.parse(String(t.start_time ?? t.create_time ?? '').replace(' ', 'T'));
      const age = Number.isNaN(since) ? '' : ` ${formatDuration(Math.max(0, Date.now() - since))}`;
      const link = web ? ` ${web}/taskinfo?taskID=${t.id}` : '';
      return `${t.id} ${t.method}${age}${link}`;
    })
    .join(', ') + (tasks.length > 10 ? `, and ${tasks.length - 10} more` : '');
}
