/**
 * The lines a rolling run says in chat: the start line, progress lines, the pause line, the summary, and the
 * `!rolling status` view. Pure functions of the run, its tally and estimates; no secrets ever reach them.
 */
import type { RollingLeftOut, RollingRun } from '../model';
import type { HostEnding, RollingTally } from '../rolling/types';
import { formatRoughDuration } from './duration';
import { someOf } from './name-list';
import { inFlightPosition } from './job-position';

const MAX_LISTED = 12;

/** `a, b, c and 9 more`. */
export function listHosts(hosts: readonly string[], max = MAX_LISTED): string {
  return someOf(hosts, max);
}

function scope(run: RollingRun): string {
  return run.group ? `group:${run.group}` : 'the fleet';
}

export interface StartLineInput {
  run: RollingRun;
  /** Hosts left out because they were in a job at start. */
  skipped: string[];
  /** Estimated duration of the whole run, and how many past jobs it is based on. */
  estimate?: { ms: number; samples: number };
  cadence?: string;
  window?: string;
}

/** `12 builders and 2 virthosts` (a run with virthosts), else `14 host(s)`. */
function describeHostCount(run: RollingRun): string {
  const virthosts = run.virthosts?.length ?? 0;
  if (!virthosts) return `${run.order.length} host(s)`;
  const builders = run.order.length - virthosts;
  return `${builders} builder${builders === 1 ? '' : 's'} and ${virthosts} virthost${virthosts === 1 ? '' : 's'}`;
}

/** `bvmhost-x86-01 left out: it and its 4 guests need 5 slots, the run has 2; reinstall it by hand: !reinstall bvmhost-x86-01`. */
export function describeLeftOut(x: RollingLeftOut): string {
  return `${x.host} left out: it and its ${x.guests} guest${x.guests === 1 ? '' : 's'} need ${x.need} slots, ${x.limit}; reinstall it by hand: !reinstall ${x.host}`;
}

export function renderStart({ run, skipped, estimate, cadence, window }: StartLineInput): string {
  const parts = [
    `rolling run ${run.id} started by ${run.startedBy.display}: ${describeHostCount(run)} of ${scope(run)}, ${run.slots} at a time (fraction ${run.fraction})`,
  ];
  if (run.virthosts?.length) parts.push("a virthost's guests are drained first and reinstalled with it, each taking a slot");
  if (run.continuous) parts.push(`continuous: every host reinstalled at least every ${cadence ?? '?'}`);
  if (window) parts.push(`starts hosts only within ${window}`);
  parts.push(`least recently reinstalled first: ${listHosts(run.order)}`);
  if (skipped.length) parts.push(`left out (already in a job): ${listHosts(skipped)}`);
  for (const x of run.leftOut ?? []) parts.push(describeLeftOut(x));
  if (!run.continuous) {
    parts.push(
      estimate
        ? `estimated ${formatRoughDuration(estimate.ms)} (from ${estimate.samples} past reinstall${estimate.samples === 1 ? '' : 's'}, approvals not counted)`
        : 'no past reinstalls to estimate the duration from',
    );
  }
  return parts.join('; ');
}

/** `7/20 done, 5 in flight (2 waiting approval), 1 failed, 7 left`; with virthosts `7/20 done (6/18 builders, 1/2 virthosts), …`. */
export function renderCounts(run: RollingRun, t: RollingTally): string {
  const waiting = t.waiting.length ? ` (${t.waiting.length} waiting approval)` : '';
  return `${t.done.length}/${run.order.length} done${apart(run, t)}, ${t.inFlight.length} in flight${waiting}, ${t.failed.length} failed, ${t.left.length} left`;
}

/** Builders and virthosts apart, in a run that has virthosts. */
function apart(run: RollingRun, t: RollingTally): string {
  const virthosts = new Set(run.virthosts ?? []);
  if (!virthosts.size) return '';
  const vDone = t.done.filter((h) => virthosts.has(h)).length;
  return ` (${t.done.length - vDone}/${run.order.length - virthosts.size} builders, ${vDone}/${virthosts.size} virthosts)`;
}

function renderEnding(e: HostEnding): string {
  if (e.outcome === 'done') return `${e.host} reinstalled`;
  return `${e.host} failed${e.step ? ` at ${e.step}` : ''}: ${e.message ?? 'unknown error'} (stays disabled)`;
}

export function renderEta(etaMs: number | undefined, continuous: boolean): string {
  if (continuous) return '';
  if (etaMs === undefined) return '; ETA unknown';
  return `; ETA ~${formatRoughDuration(etaMs)}`;
}

/** A progress line: the hosts that just ended (if any), then the counts and the ETA. */
export function renderProgress(run: RollingRun, t: RollingTally, ended: readonly HostEnding[], etaMs: number | undefined): string {
  const head = ended.length ? `${ended.map(renderEnding).join('; ')} — ` : '';
  return `rolling ${run.id}: ${head}${renderCounts(run, t)}${renderEta(etaMs, run.continuous)}`;
}

function renderFailures(failed: RollingRun['failed']): string {
  return failed.map((f) => `${f.host}${f.step ? ` at ${f.step}` : ''}: ${f.message}`).join('; ');
}

export function renderBudgetPause(run: RollingRun, budget: number, newFailures: RollingRun['failed']): string {
  return (
    `rolling ${run.id} paused: ${newFailures.length} reinstall(s) failed (rolling.failureBudget ${budget}): ${renderFailures(newFailures)}. ` +
    `Failed hosts stay disabled (!retry HOST resumes one). !rolling resume goes on, !rolling stop ends the run.`
  );
}

export function renderSummary(run: RollingRun, t: RollingTally, tookMs: number): string {
  const how = run.state === 'stopped' ? `stopped by ${run.stoppedBy?.display ?? 'an operator'}` : 'finished';
  const failed = t.failed.length ? `, ${t.failed.length} failed (still disabled): ${renderFailures(t.failed)}` : ', none failed';
  const still = run.state === 'stopped' && t.inFlight.length ? `; ${t.inFlight.length} in flight go on, then wait for !approve: ${listHosts(t.inFlight.map((j) => j.host))}` : '';
  const left = run.state === 'stopped' && t.left.length ? `; ${t.left.length} not started` : '';
  return `rolling run ${run.id} ${how} after ${formatRoughDuration(tookMs)}: ${t.done.length}/${run.order.length} reinstalled${failed}${still}${left}`;
}

export interface StatusInput {
  run: RollingRun;
  tally: RollingTally;
  etaMs?: number;
  budget: number;
  /** Why nothing starts now, if so (outside the window, with when it opens). */
  waitingFor?: string;
  /** In a continuous run: the next host to come due and when. */
  nextDue?: string;
}

export function renderStatus(s: StatusInput): string[] {
  const { run, tally: t } = s;
  const mode = run.continuous ? ', continuous' : '';
  const lines = [
    `rolling run ${run.id} (${scope(run)}, ${run.slots} at a time${mode}, started by ${run.startedBy.display} at ${run.startedAt}): ${run.state} — ${renderCounts(run, t)}${run.state === 'running' ? renderEta(s.etaMs, run.continuous) : ''}`,
  ];
  if (run.state === 'paused') lines.push(`  paused: ${run.pausedReason ?? 'by an operator'} — !rolling resume goes on, !rolling stop ends it`);
  if (t.inFlight.length) lines.push(`  in flight: ${t.inFlight.map(inFlightPosition).join(', ')}`);
  if (t.failed.length) lines.push(`  failed (stay disabled): ${renderFailures(t.failed)}`);
  const failedSinceResume = run.failed.length - (run.acknowledgedFailures ?? 0);
  if (run.state === 'running') lines.push(`  failure budget: ${Math.max(0, failedSinceResume)} of ${s.budget} used`);
  if (s.waitingFor) lines.push(`  ${s.waitingFor}`);
  for (const x of run.leftOut ?? []) lines.push(`  ${describeLeftOut(x)}`);
  if (t.left.length && (run.state === 'running' || run.state === 'paused')) lines.push(`  next: ${listHosts(t.left, 6)}`);
  if (s.nextDue) lines.push(`  ${s.nextDue}`);
  return lines;
}
