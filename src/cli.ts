/**
 * The `rekick` command line: start, reinstall, check-config and the read-only views (bin/cli.ts adds `lab`).
 * Each subcommand has its own --help. Errors an operator can act on print one clear message and exit 2; internal
 * errors exit 1.
 */
import { writeSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CodedError, ConfigError } from './errors';
import { runCheckConfig, runReinstallCli, runStart } from './cli-commands';
import { runAuditCli, runHostsCli, runStatusCli } from './cli-views';

export interface Subcommand {
  usage: string;
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

const PRODUCTION_SUBCOMMANDS: Record<string, Subcommand> = {
  start: {
    usage: 'rekick start --config FILE [--console]',
    summary: 'run the bot: IRC and Slack from the config (--console: also take chat lines from this terminal)',
    options: { config: { type: 'string', short: 'c' }, console: { type: 'boolean', default: false } },
    run: (v) => runStart({ configPath: requireOption(v, 'config'), console: Boolean(v.console) }),
  },
  reinstall: {
    usage: 'rekick reinstall HOST... --config FILE [--dry-run] [--force-drain] [--reason TEXT]',
    summary: 'reinstall hosts through the same executor, progress on stdout (--dry-run: print the plan, touch nothing)',
    options: {
      config: { type: 'string', short: 'c' },
      'dry-run': { type: 'boolean', default: false },
      'force-drain': { type: 'boolean', default: false },
      reason: { type: 'string' },
    },
    run: (v, hosts) =>
      runReinstallCli({
        configPath: requireOption(v, 'config'),
        hosts,
        dryRun: Boolean(v['dry-run']),
        forceDrain: Boolean(v['force-drain']),
        reason: v.reason as string | undefined,
      }),
  },
  status: {
    usage: 'rekick status [HOST] --config FILE',
    summary: 'running and recent jobs, or one host\'s job with each step (reads the state file)',
    options: { config: { type: 'string', short: 'c' } },
    run: (v, [host]) => runStatusCli(requireOption(v, 'config'), host),
  },
  hosts: {
    usage: 'rekick hosts --config FILE',
    summary: 'each host: current job and last reinstall (reads the state file)',
    options: { config: { type: 'string', short: 'c' } },
    run: (v) => runHostsCli(requireOption(v, 'config')),
  },
  audit: {
    usage: 'rekick audit --config FILE [--host HOST] [--since 7d] [--actions | --refusals]',
    summary: 'who asked what, from which chat, when, and what happened (security actions and refusals; --actions or --refusals: only those)',
    options: {
      config: { type: 'string', short: 'c' },
      host: { type: 'string' },
      since: { type: 'string' },
      actions: { type: 'boolean', default: false },
      refusals: { type: 'boolean', default: false },
    },
    run: (v) =>
      runAuditCli(requireOption(v, 'config'), {
        host: v.host as string | undefined,
        since: v.since as string | undefined,
        actions: Boolean(v.actions),
        refusals: Boolean(v.refusals),
      }),
  },
  'check-config': {
    usage: 'rekick check-config FILE',
    summary: 'validate a config file and the files it names; print every problem',
    options: {},
    run: (_v, [file]) => runCheckConfig(file),
  },
};

function requireOption(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || !v) throw new CodedError('E_USAGE', `--${name} is required`);
  return v;
}

function mainHelp(subcommands: Record<string, Subcommand>): string {
  const lines = ['rekick: reinstall Koji builders from chat', '', 'Usage: rekick COMMAND [options]   (rekick COMMAND --help for more)', ''];
  for (const [name, s] of Object.entries(subcommands)) lines.push(`  ${name.padEnd(14)} ${s.summary}`);
  return lines.join('\n');
}

function subHelp(name: string, s: Subcommand): string {
  const opts = Object.entries(s.options).map(([k, o]) => `  --${k}${o.type === 'string' ? ' VALUE' : ''}${o.default !== undefined ? ` (default ${String(o.default)})` : ''}`);
  return [`Usage: ${s.usage}`, '', s.summary, '', 'Options:', ...opts, '  --help'].join('\n');
}

/** Runs one command line. `extra` adds subcommands a program built on rekick brings (bin/rekick.js: the lab). */
export async function main(argv: string[], extra: Record<string, Subcommand> = {}): Promise<number> {
  const subcommands = { ...extra, ...PRODUCTION_SUBCOMMANDS };
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${mainHelp(subcommands)}\n`);
    return name ? 0 : 2;
  }
  const sub = subcommands[name];
  if (!sub) {
    process.stderr.write(`rekick: unknown command "${name}"\n\n${mainHelp(subcommands)}\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...sub.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`rekick ${name}: ${(err as Error).message}\n\n${subHelp(name, sub)}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${subHelp(name, sub)}\n`);
    return 0;
  }
  try {
    return await sub.run(parsed.values, parsed.positionals);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof CodedError) {
      process.stderr.write(`rekick ${name}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`rekick ${name}: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

/**
 * stdout closed under a running command (`rekick reinstall ... | head`, a pager that quits, the terminal gone):
 * the write error must not end rekick in the middle of a job (an unhandled 'error' would). Output stops; the work
 * goes on, and what it does stays in the state file, the logs and chat.
 */
export function keepGoingWithoutStdout(): void {
  let told = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED' || told) return;
    told = true;
    try {
      writeSync(2, `rekick: standard output failed (${err.message}); output stops, rekick goes on\n`);
    } catch {
      // stderr is gone too: nothing else can take the message
    }
  });
}

/** The process around `main`: stdout that may close, the exit code. */
export function runCliProcess(extra: Record<string, Subcommand> = {}): void {
  keepGoingWithoutStdout();
  main(process.argv.slice(2), extra).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
