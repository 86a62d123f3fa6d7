/**
 * The read-only command-line views: `rekick status`, `rekick hosts`, `rekick audit`. They read the state file and
 * print the lines of src/present/cli-lines.ts.
 */
import { createStore } from '../store';
import { loadConfig } from './config/load';
import { parseDuration } from './config/duration';
import { CodedError } from './errors';
import { hostViews } from './http/api';
import { createLogger } from './log';
import { cliAuditLine, cliHostLine, cliJobLines } from './present/cli-lines';

async function openStore(configPath: string) {
  const config = loadConfig(configPath, { env: process.env, checkFiles: false });
  const store = createStore(config.store, { log: createLogger({ level: 'warn' }), lock: false, ...config.history });
  await store.open();
  return { config, store };
}

export async function runStatusCli(configPath: string, host?: string): Promise<number> {
  const { store } = await openStore(configPath);
  try {
    const jobs = store.listJobs({ host, limit: host ? 1 : 20 });
    if (!jobs.length) process.stdout.write(host ? `${host}: no job\n` : 'no jobs\n');
    for (const job of jobs) {
      const lines = host ? cliJobLines(job) : [cliJobLines(job)[0]!];
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
    for (const h of hostViews(config, store)) process.stdout.write(`${cliHostLine(h)}\n`);
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
    for (const e of store.listAudit({ host: options.host, since, kind })) process.stdout.write(`${cliAuditLine(e)}\n`);
  } finally {
    await store.close();
  }
  return 0;
}
