/**
 * The read-only status page: server-rendered HTML, no build step, refreshes by itself. The fleet as a table (host,
 * arch, group, Koji state, current step, last reinstall age coloured by cadence), the rolling run, the approval
 * queue and recent failures with their cause. Every value is HTML-escaped.
 */
import type { Store } from '../../store/store';
import type { Config } from '../config/schema';
import type { KojiHostStates } from '../koji/host-states';
import type { Job } from '../model';
import { hostViews } from './api';
import { agoOrNever, formatDuration } from '../present/duration';
import { proofSummary } from '../present/proof';

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function ageClass(at: string | null, cadenceMs: number): string {
  if (!at) return 'never';
  const age = Date.now() - Date.parse(at);
  if (age > cadenceMs) return 'stale';
  if (age > cadenceMs * 0.75) return 'due';
  return 'fresh';
}

type PageInput = { config: Config; store: Store; hostStates?: KojiHostStates; queue: () => Job[]; refreshSeconds?: number };

/** The fleet table's rows: one per host, its last reinstall coloured by the rolling cadence. */
function fleetRows(o: PageInput): string {
  const cadence = o.config.rolling.cadence ?? 14 * 86_400_000;
  return hostViews(o.config, o.store, o.hostStates)
    .map((h) => {
      const koji = h.kind === 'virthost' ? '<span class="unknown">not a builder</span>' : h.koji ? (h.koji.enabled ? '<span class="ok">enabled</span>' : `<span class="off" title="${escapeHtml(h.koji.comment)}">disabled</span>`) : '<span class="unknown">?</span>';
      const step = h.job ? `${escapeHtml(h.job.step)}${h.job.progress ? ` <small>${escapeHtml(h.job.progress)}</small>` : ''}` : '';
      const age = agoOrNever(h.lastReinstalledAt);
      return `<tr data-host="${escapeHtml(h.name)}"><td>${escapeHtml(h.name)}</td><td>${escapeHtml(h.arch)}</td><td>${escapeHtml(h.groups.join(', '))}</td><td>${koji}</td><td class="step">${step}</td><td class="age ${ageClass(h.lastReinstalledAt, cadence)}">${escapeHtml(age)}</td></tr>`;
    })
    .join('\n');
}

/** The approval queue, oldest first, with how long each host has waited and its proof of reinstall. */
function queueSection(queue: Job[]): string {
  return queue.length
    ? `<ol id="queue">${queue.map((j) => `<li>${escapeHtml(j.host)} — waiting ${escapeHtml(formatDuration(Date.now() - Date.parse(j.updatedAt)))}: <code>!approve ${escapeHtml(j.host)}</code>${j.proof ? ` <small>${escapeHtml(proofSummary(j.proof))}</small>` : ''}</li>`).join('')}</ol>`
    : '<p id="queue">No host is waiting for approval.</p>';
}

/** The last ten failures with their step and cause ('' when there are none). */
function failureItems(store: Store): string {
  return store
    .listJobs({ states: ['failed'], limit: 10 })
    .map((j) => `<li>${escapeHtml(j.host)} at ${escapeHtml(j.error?.step)}: ${escapeHtml(j.error?.message)} <small>${escapeHtml(j.endedAt)}</small></li>`)
    .join('');
}

/** The rolling run in one sentence, or that there is none. */
function rollingSection(store: Store): string {
  const run = store.getRolling();
  return run
    ? `<p id="rolling">Rolling run ${escapeHtml(run.id)} (${escapeHtml(run.state)}): ${run.done.length} done, ${run.failed.length} failed, ${run.order.length - Object.keys(run.jobs).length} left of ${run.order.length}.</p>`
    : '<p id="rolling">No rolling run.</p>';
}

export function renderStatusPage(o: PageInput): string {
  const rows = fleetRows(o);
  const queueHtml = queueSection(o.queue());
  const failures = failureItems(o.store);
  const rolling = rollingSection(o.store);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${o.refreshSeconds ?? 5}">
<title>rekick status</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:left}
.ok{color:#176f2c}.off{color:#b3261e;font-weight:600}.unknown{color:#888}.fresh{background:#e6f4ea}.due{background:#fef7e0}.stale,.never{background:#fce8e6}
small{color:#666}code{background:#f3f3f3;padding:0 .3em}
</style></head><body>
<h1>rekick</h1>
<h2>Fleet</h2>
<table id="fleet"><thead><tr><th>host</th><th>arch</th><th>group</th><th>Koji</th><th>current step</th><th>last reinstall</th></tr></thead><tbody>
${rows}
</tbody></table>
<h2>Rolling</h2>${rolling}
<h2>Waiting for approval</h2>${queueHtml}
<h2>Recent failures</h2>${failures ? `<ul id="failures">${failures}</ul>` : '<p id="failures">None.</p>'}
<p><small>Refreshes every ${o.refreshSeconds ?? 5}s · <a href="/api/v1/hosts">/api/v1/hosts</a> · <a href="/metrics">/metrics</a></small></p>
</body></html>`;
}
