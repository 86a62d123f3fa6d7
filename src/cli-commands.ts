/** The CLI's subcommands that run rekick itself: start, reinstall (incl. --dry-run), check-config. */
import { createConsoleAdapter } from './chat/console';
import { renderEvent } from './present/event-lines';
import { loadConfig } from './config/load';
import type { Config } from './config/schema';
import { CodedError } from './errors';
import { planReinstall } from './executor/plan';
import { createLogger } from './log';
import { createRekick } from './main';
import type { Identity, Job } from './model';

export async function runCheckConfig(file: string | undefined): Promise<number> {
  if (!file) throw new CodedError('E_USAGE', 'name the config file: rekick check-config FILE');
  const config = loadConfig(file, { env: process.env });
  const kinds = config.hosts.reduce<Record<string, number>>((acc, h) => ({ ...acc, [h.kind]: (acc[h.kind] ?? 0) + 1 }), {});
  process.stdout.write(
    `${file}: OK — ${config.hosts.length} hosts (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')}), chat: ${[config.irc && 'irc', config.slack && 'slack'].filter(Boolean).join(', ') || 'none'}\n`,
  );
  return 0;
}

export async function runStart(options: { configPath: string; console: boolean }): Promise<number> {
  const config = loadConfig(options.configPath, { env: process.env });
  return runBot(config, { console: options.console });
}

/** Runs the bot until SIGTERM/SIGINT (or, with the console, until stdin ends). */
export async function runBot(config: Config, options: { console: boolean; banner?: (statusUrl?: string) => string[] }): Promise<number> {
  const log = createLogger();
  let inputEnded: () => void = () => undefined;
  const inputEnd = new Promise<string>((resolve) => (inputEnded = () => resolve('end of input')));
  const adapters = options.console ? [createConsoleAdapter({ input: process.stdin, output: process.stdout, onEnd: () => inputEnded(), nick: config.irc?.nick })] : [];
  const rekick = await createRekick({ config, log, adapters, checkpoint: crashCheckpoint(process.env.REKICK_TEST_KILL_AT) });
  await rekick.start();
  const banner = options.banner?.(rekick.http?.url) ?? (options.console ? [`rekick ready: type !help${rekick.http ? `; status page ${rekick.http.url}` : ''}`] : []);
  for (const line of banner) process.stdout.write(`${line}\n`);
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const stopped = new Promise<string>((resolve) => {
    for (const s of signals) process.once(s, () => resolve(s));
    if (options.console) void inputEnd.then(resolve);
  });
  const why = await stopped;
  log.info({ why }, 'stopping');
  await rekick.stop(`rekick stopping (${why})`);
  return 0;
}

export async function runReinstallCli(options: {
  configPath: string;
  hosts: string[];
  dryRun: boolean;
  forceDrain: boolean;
  reason?: string;
}): Promise<number> {
  const config = loadConfig(options.configPath, { env: process.env });
  if (!options.hosts.length) throw new CodedError('E_USAGE', 'name at least one host (or group:NAME)');
  if (options.dryRun) {
    for (const line of planReinstall(config, options.hosts, { forceDrain: options.forceDrain })) process.stdout.write(`${line}\n`);
    return 0;
  }
  const log = createLogger();
  const rekick = await createRekick({ config, log, chat: { irc: false, slack: false } });
  const by: Identity = { source: 'cli', id: process.env.USER ?? 'cli', display: process.env.USER ?? 'cli' };
  rekick.executor.on((e) => {
    for (const line of renderEvent(e)) process.stdout.write(`${line}\n`);
  });
  await rekick.executor.start();
  const jobs = await rekick.executor.reinstall({ hosts: options.hosts, by, origin: { adapter: 'cli', room: 'stdout' }, forceDrain: options.forceDrain, reason: options.reason });
  await rekick.executor.idle();
  const states = jobs.map((j) => rekick.store.getJob(j.id)!);
  await rekick.stop();
  const failed = states.filter((j) => j.state === 'failed');
  const waiting = states.filter((j) => j.state === 'awaiting-approval');
  if (waiting.length) process.stdout.write(`waiting for approval in chat: ${waiting.map((j) => j.host).join(', ')}\n`);
  return failed.length ? 1 : 0;
}


/**
 * For the crash tests only: `REKICK_TEST_KILL_AT=POINT[@HOST]` (e.g. `succeeded:drain@buildarm-03`) makes the
 * process SIGKILL itself at that durable transition, so a test can kill rekick at an exact point of a job.
 */
export function crashCheckpoint(spec: string | undefined): ((point: string, job: Job) => void) | undefined {
  if (!spec) return undefined;
  const [point, host] = spec.split('@');
  return (p, job) => {
    if (p === point && (!host || job.host === host)) process.kill(process.pid, 'SIGKILL');
  };
}
