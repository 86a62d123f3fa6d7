/**
 * `npm run bench [-- NAME... --hosts N ...]`: runs the benchmarks (all by default, one after another) and repeats
 * their figures at the end. Names: fleet, chat, ssh-return, postinstall.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { benchChatToDisable } from './chat-to-disable';
import { benchFleet } from './fleet';
import { benchPostinstall } from './postinstall';
import { benchSshReturn } from './ssh-return';
import { figureLine, machine, note, reportedFigures } from './report';

const BENCHES: Record<string, (v: Record<string, string | boolean | undefined>) => Promise<void>> = {
  fleet: (v) =>
    benchFleet({
      hosts: v.hosts ? Number(v.hosts) : undefined,
      budgetMs: v.budget ? Number(v.budget) * 1000 : undefined,
      keep: Boolean(v.keep),
      warmup: v.warmup !== undefined ? Number(v.warmup) : undefined,
    }),
  chat: (v) => benchChatToDisable({ runs: v.runs ? Number(v.runs) : undefined }),
  postinstall: (v) => benchPostinstall({ hosts: v.builders ? Number(v.builders) : undefined }),
  'ssh-return': (v) => benchSshReturn({ trials: v.trials ? Number(v.trials) : undefined }),
};

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: {
      hosts: { type: 'string' },
      budget: { type: 'string' },
      warmup: { type: 'string' },
      runs: { type: 'string' },
      trials: { type: 'string' },
      builders: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`usage: npm run bench -- [${Object.keys(BENCHES).join('|')}]... [--hosts N] [--warmup N] [--budget SECONDS] [--runs N] [--trials N] [--builders N] [--keep]\n`);
    return 0;
  }
  const names = positionals.length ? positionals : Object.keys(BENCHES);
  const unknown = names.filter((n) => !BENCHES[n]);
  if (unknown.length) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`);
    return 2;
  }
  process.stdout.write(`rekick benchmarks on ${machine()}\n`);
  if (!/--max-semi-space-size/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) {
    note('node runs without --max-semi-space-size=4, which the service file (contrib/rekick.service) and `npm run bench` give it: fleet-peak-rss reads ~50 MB higher');
  }
  const started = Date.now();
  let failed = 0;
  for (const [i, name] of names.entries()) {
    // Each benchmark starts on a settled disk: the fleet run leaves gigabytes of page cache to write back, which
    // would otherwise slow the next benchmark's fsyncs (the chat benchmark's durable writes).
    if (i > 0) await settleDisk();
    const t = Date.now();
    process.stdout.write(`\n== ${name} (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}: other work on this machine skews the figures)\n`);
    try {
      await BENCHES[name]!(values);
    } catch (err) {
      failed++;
      process.stdout.write(`bench ${name} failed: ${(err as Error)?.stack ?? String(err)}\n`);
    }
    note(`${name} took ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
  process.stdout.write(`\n== figures (${((Date.now() - started) / 1000).toFixed(0)} s in all, ${machine()})\n`);
  for (const f of reportedFigures()) process.stdout.write(`${figureLine(f)}\n`);
  return failed ? 1 : 0;
}

async function settleDisk(): Promise<void> {
  const t = Date.now();
  execFileSync('sync');
  await new Promise((r) => setTimeout(r, 2000));
  note(`disk settled (sync) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
