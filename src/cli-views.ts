/** The read-only command-line views: `rekick status`, `rekick hosts`, `rekick audit`. They read the state file. */
import { createStore } from '../store';
import { loadConfig } from './config/load';
import { parseDuration } from './config/duration';
import { CodedError, formatDuration } from './errors';
import { hostViews } from './http/api';
import { proofDetail, proofSummary } from './present/proof';
import { disarmClause } from './present/disarm';
import { createLogger } from './log';
import { STEP_NAMES, type AuditEntry, type Job } from './model';

async function openStore(configPath: string) {
  const config = loadConfig(configPath, { env: process.env, checkFiles: false });
  const store = createStore(config.store, { log: createLogger({ level: 'warn' }), lock: false, ...config.history });
  await store.open();
  return { config, store };
}

function age(at: string | undefined | null): string {
  return at ? `${formatDuration(Date.now() - Date.parse(at))} ago` : 'never';
}

export function describeJob(job: Job): string[] {
  const lines = [`${job.host} job ${job.id}: ${job.state}, asked by ${job.requestedBy.display} ${age(job.createdAt)}${job.reason ? ` (${job.reason})` : ''}`];
  job.steps.forEach((s, i) => {
    const time = s.durationMs !== undefined ? ` ${formatDuration(s.durationMs)}` : s.startedAt && s.status === 'running' ? ` for ${formatDuration(Date.now() - Date.parse(s.startedAt))}` : '';
    const extra = s.error ? `: ${s.error.message}` : s.progress && s.status === 'running' ? `: ${s.progress}` : '';
    lines.push(`  [${i + 1}/8] ${STEP_NAMES[i]} ${s.status}${time}${extra}`);
  });
  if (job.proof) lines.push(`  ${proofSummary(job.proof)} (${proofDetail(job.proof)})`);
  const disarm = disarmClause(job);
  if (disarm) lines.push(`  ${disarm}`);
  return lines;
}

export async function runStatusCli(configPath: string, host?: string): Promise<number> {
  const { store } = await openStore(configPath);
  try {
    const jobs = store.listJobs({ host, limit: host ? 1 : 20 });
    if (!jobs.length) process.stdout.write(host ? `${host}: no job\n` : 'no jobs\n');
    for (const job of jobs) {
      const lines = host ? describeJob(job) : [describeJob(job)[0]!];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  } finally {
    await store.close();
  }
  return 0;
}

export async function runHostsCli(configPath: string): Promise<number> {
  const { config, store } = await openStore(configPath);
  try {
    for (const h of hostViews(config, store)) {
      const job = h.job ? `${h.job.state} at ${h.job.step}` : 'idle';
      process.stdout.write(`${h.name.padEnd(20)} ${h.arch.padEnd(8)} ${h.kind.padEnd(9)} ${job.padEnd(30)} last reinstall ${age(h.lastReinstalledAt)}\n`);
    }
  } finally {
    await store.close();
  }
  return 0;
}

/**
 * The audit trail, oldest first: the security actions (outcome ok) and the refusal list (outcome refused or error;
 * a repeated refusal says how many times), interleaved by time; `actions` or `refusals` shows only that kind.
 */
export async function runAuditCli(configPath: string, options: { host?: string; since?: string; actions?: boolean; refusals?: boolean }): Promise<number> {
  let since: string | undefined;
  if (options.since) {
    const ms = parseDuration(options.since);
    if (ms === undefined) throw new CodedError('E_USAGE', `--since takes a duration like 7d or 12h, got "${options.since}"`);
    since = new Date(Date.now() - ms).toISOString();
  }
  const { store } = await openStore(configPath);
  try {
    const kind = options.actions && !options.refusals ? 'actions' : options.refusals && !options.actions ? 'refusals' : undefined;
    for (const e of store.listAudit({ host: options.host, since, kind })) process.stdout.write(`${auditLine(e)}\n`);
  } finally {
    await store.close();
  }
  return 0;
}

function auditLine(e: AuditEntry): string {
  const who = e.who.id ? `${e.who.source}:${e.who.id}` : `${e.who.source}:${e.who.display} (no account)`;
  const times = e.count && e.count > 1 ? ` (${e.count} times, the last at ${e.lastAt ?? e.at})` : '';
  return `${e.at} ${who} ${e.action}${e.host ? ` ${e.host}` : ''} ${e.outcome}${e.detail ? `: ${e.detail}` : ''}${times}`;
}
