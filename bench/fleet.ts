/**
 * Fleet scale: rekick rolls through a lab fleet of simulated builders at fraction 0.1 with the lab's --fast
 * delays, auto-approving, while the bench measures rekick's own process: CPU time per reinstalled host, peak RSS,
 * event-loop delay p99, and at the end the store file's size and the time of one durable write.
 *
 * A bot reinstalls its fleet for weeks in one process, so the CPU per host is measured in a warm one: before the
 * measured run, a warm-up run reinstalls the first `warmup` builders (all at once: as many jobs in flight as the
 * measured run's slots). Its own CPU per host and loop delay — a cold process: V8 compiling the hot code, first
 * connections — are printed beside the figures. Peak RSS is over both runs.
 *
 * The peers (hub stand-in and simulated fleet) run in a child process (`rekick lab --peers-only`); rekick runs here,
 * built by createRekick from the peers' config file, chat replaced by a silent bench adapter.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import pino from 'pino';
import { loadConfig } from '../src/config/load';
import { createStore } from '../store';
import { historyPathFor } from '../store/history-file';
import type { Store } from '../store/store';
import { createRekick, type Rekick } from '../src/main';
import { ACTIVE_JOB_STATES, type Job } from '../src/model';
import { createBenchChat, type BenchChat } from './bench-chat';
import { startLabPeersProcess } from './lab-peers-process';
import { withDefaults } from './options';
import { note, report } from './report';
import { median } from './stats';

export interface FleetBenchOptions {
  hosts: number;
  fraction: number;
  /** Give up waiting for the run after this long (figures are then over the hosts done so far). */
  budgetMs: number;
  logLevel: pino.Level;
  keep: boolean;
  /** Builders reinstalled by a warm-up run before the measured one (0: measure a cold process). */
  warmup: number;
}

/** A group the bench gives every builder, so the run is `!rolling start 0.1 group:bench-builders`. */
const BENCH_GROUP = 'bench-builders';
/** The group of the builders the warm-up run reinstalls first (`!rolling start 1 group:bench-warmup`). */
const WARMUP_GROUP = 'bench-warmup';

export const FLEET_DEFAULTS: FleetBenchOptions = { hosts: 1000, fraction: 0.1, budgetMs: 100_000, logLevel: 'info', keep: false, warmup: 100 };

export async function benchFleet(options: Partial<FleetBenchOptions> = {}): Promise<void> {
  const o = withDefaults(FLEET_DEFAULTS, options, ['warmup']);
  const dir = mkdtempSync(path.join(tmpdir(), 'rekick-bench-fleet-'));
  note(`fleet: ${o.hosts} simulated builders (rekick lab --peers-only --fast) in a child process, rolling at ${o.fraction}, auto-approve; state in ${dir}`);
  const t0 = Date.now();
  const peers = await startLabPeersProcess({ hosts: o.hosts, dir });
  note(`fleet: peers up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const config = loadConfig(peers.configPath, { env: process.env });
  // The run takes the builders: the lab's simulated virthosts have no kojid to set up, so their post-install fails.
  for (const h of config.hosts) if (h.kind !== 'virthost') h.groups.push(BENCH_GROUP);
  const warmupHosts = config.hosts.filter((h) => h.kind !== 'virthost').slice(0, o.warmup);
  for (const h of warmupHosts) h.groups.push(WARMUP_GROUP);
  config.rolling.autoApprove = true;
  config.rolling.fraction = o.fraction;
  // rekick logs as it would in production (info, to a file), so logging is part of its cost.
  const log = pino({ level: o.logLevel }, pino.destination({ dest: path.join(dir, 'rekick.log'), sync: false, mkdir: true }));
  const chat = createBenchChat();
  const store = countWrites(createStore(config.store, { log, ...config.history }));
  const rekick = await createRekick({ config, log, store, adapters: [chat], chat: { irc: false, slack: false } });
  await rekick.start();

  const builders = config.hosts.filter((h) => h.kind !== 'virthost').length;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  let peak = process.memoryUsage();
  let peakAt = Date.now();
  // memoryUsage.rss() is one cheap read; the whole memoryUsage() (heap statistics) only at a new peak.
  const rssTimer = setInterval(() => {
    if (process.memoryUsage.rss() > peak.rss) [peak, peakAt] = [process.memoryUsage(), Date.now()];
  }, 100);
  let firstWaveWriteMs: number | undefined;
  let maxInFlight = 0;
  let cpu0 = process.cpuUsage();
  let peersCpu0 = peers.cpuSeconds();
  let started = Date.now();
  let writes0 = 0;
  let documentWrites0 = 0;
  let outcome = 'finished';
  try {
    if (warmupHosts.length) {
      await warmUp(rekick, chat, warmupHosts.length, o.budgetMs);
      [cpu0, peersCpu0, started] = [process.cpuUsage(), peers.cpuSeconds(), Date.now()];
      [writes0, documentWrites0] = [store.writes, documentWritesOf(store) ?? 0];
    }
    loop.enable();
    await chat.say(`!rolling start ${o.fraction} group:${BENCH_GROUP}`);
    const run0 = rekick.store.getRolling();
    if (!run0 || run0.group !== BENCH_GROUP) throw new Error(`the rolling run did not start; rekick said: ${chat.sent.map((m) => m.text).join(' | ')}`);
    let lastShown = 0;
    if (process.env.BENCH_HEAP_SNAPSHOT) setTimeout(() => note(`fleet: heap snapshot ${writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT)}`), 30_000).unref();
    for (;;) {
      await sleep(1000);
      const run = rekick.store.getRolling()!;
      const done = run.done.length + run.failed.length;
      maxInFlight = Math.max(maxInFlight, rekick.store.peekJobs({ states: ACTIVE_JOB_STATES }).length);
      if (firstWaveWriteMs === undefined && run.done.length > 0) firstWaveWriteMs = await timeStoreWrite(rekick.store, run.done[0]!);
      if (Date.now() - lastShown > 15_000) {
        lastShown = Date.now();
        note(`fleet: ${((Date.now() - started) / 1000).toFixed(0)} s: ${run.done.length} done, ${run.failed.length} failed of ${run.order.length}`);
      }
      if (run.state !== 'running' || done >= run.order.length) {
        outcome = run.state;
        break;
      }
      if (Date.now() - started > o.budgetMs) {
        // Out of time: start no more hosts, let those in flight finish, so all CPU counted went to finished hosts.
        outcome = `stopped by the bench after ${Math.round(o.budgetMs / 1000)} s, hosts in flight then finished`;
        await chat.say('!rolling stop');
        note(`fleet: !rolling stop at ${((Date.now() - started) / 1000).toFixed(0)} s (run ${rekick.store.getRolling()?.state}); waiting for the hosts in flight`);
        await finishInFlight(rekick, chat);
        break;
      }
    }
  } finally {
    loop.disable();
    clearInterval(rssTimer);
  }
  const cpu = process.cpuUsage(cpu0);
  const wallS = (Date.now() - started) / 1000;
  const peersCpu = peers.cpuSeconds() - peersCpu0;
  const run = rekick.store.getRolling()!;
  // This run's jobs only (the warm-up's are in the store too).
  const reinstalled = rekick.store.listJobs({ states: ['succeeded'] }).filter((j) => j.options.rollingRunId === run.id).length;
  const endWriteMs = await timeStoreWrite(rekick.store, run.done.at(-1) ?? run.order[0]!);
  const storeBytes = statSync(config.store).size;
  const jobsKept = rekick.store.listJobs().length;

  await rekick.stop('bench done');
  await peers.stop();
  log.flush();

  const cpuMs = (cpu.user + cpu.system) / 1000;
  note(
    `fleet: run ${outcome}: ${reinstalled} reinstalled, ${run.failed.length} failed of ${run.order.length} (${builders} builders) in ${wallS.toFixed(1)} s; ` +
      `rekick CPU ${(cpuMs / 1000).toFixed(1)} s (${((cpuMs / 1000 / wallS) * 100).toFixed(0)}% of one core; user ${(cpu.user / 1e6).toFixed(1)} s, ` +
      `system ${(cpu.system / 1e6).toFixed(1)} s), peers' CPU ${peersCpu.toFixed(1)} s`,
  );
  if (run.failed.length) note(`fleet: first failures: ${run.failed.slice(0, 3).map((f) => `${f.host} (${f.step}): ${f.message}`).join('; ')}`);
  note(`fleet: at most ${maxInFlight} jobs active at once (sampled each second; the run's slots: ${run.slots ?? '?'})`);
  const writes = store.writes - writes0;
  const documentWrites = documentWritesOf(store);
  note(
    `fleet: ${writes} durable store changes (${(writes / Math.max(1, reinstalled)).toFixed(1)} per host reinstalled), ` +
      `grouped into ${documentWrites === undefined ? '?' : documentWrites - documentWrites0} writes of the state file`,
  );
  const historyBytes = existsSync(historyPathFor(config.store)) ? statSync(historyPathFor(config.store)).size : 0;
  note(`fleet: state file ${(storeBytes / 1024).toFixed(0)} KiB, history file ${(historyBytes / 1024).toFixed(0)} KiB, ${jobsKept} jobs kept; write after the first host ${firstWaveWriteMs?.toFixed(1) ?? '?'} ms, at the end ${endWriteMs.toFixed(1)} ms`);
  if (o.hosts < 1000) note(`fleet: scaled down to ${o.hosts} hosts (--hosts); the issue's figure is for 1,000`);
  if (reinstalled < run.order.length) note(`fleet: the run did not complete; figures are over the ${reinstalled} hosts reinstalled`);

  report('fleet-cpu-per-host', reinstalled ? cpuMs / reinstalled : Number.NaN, 'ms', '< 20 ms');
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
  note(`fleet: at the RSS peak (${((peakAt - started) / 1000).toFixed(0)} s into the run): V8 heap ${mb(peak.heapUsed)} used of ${mb(peak.heapTotal)}, buffers and other external memory ${mb(peak.external)}`);
  report('fleet-peak-rss', peak.rss / 1024 / 1024, 'MB', '< 250 MB');
  report('fleet-loop-delay-p99', loop.percentile(99) / 1e6, 'ms', '< 20 ms');
  report('fleet-store-write', endWriteMs, 'ms', `not growing with history (${firstWaveWriteMs?.toFixed(1) ?? '?'} ms after the first host; store ${(storeBytes / 1024).toFixed(0)} KiB)`);
  if (!o.keep) rmSync(dir, { recursive: true, force: true });
}

/**
 * The warm-up run: `!rolling start 1 group:bench-warmup`, auto-approved, until it ends; says its CPU per host (a cold
 * process) and refuses to go on if it did not reinstall every host of the group.
 */
async function warmUp(rekick: Rekick, chat: BenchChat, hosts: number, budgetMs: number): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  try {
    await chat.say(`!rolling start 1 group:${WARMUP_GROUP}`);
    const run0 = rekick.store.getRolling();
    if (!run0 || run0.group !== WARMUP_GROUP) throw new Error(`the warm-up run did not start; rekick said: ${chat.sent.map((m) => m.text).join(' | ')}`);
    for (;;) {
      await sleep(250);
      const run = rekick.store.getRolling()!;
      if (run.state !== 'running') break;
      if (Date.now() - t0 > budgetMs) throw new Error(`the warm-up run of ${hosts} builders did not end in ${Math.round(budgetMs / 1000)} s`);
    }
  } finally {
    loop.disable();
  }
  const run = rekick.store.getRolling()!;
  if (run.state !== 'finished' || run.done.length !== hosts) {
    throw new Error(`the warm-up run ended ${run.state} with ${run.done.length} of ${hosts} reinstalled (${run.failed.map((f) => `${f.host}: ${f.message}`).slice(0, 3).join('; ')})`);
  }
  const cpu = process.cpuUsage(cpu0);
  note(
    `fleet: warm-up: ${hosts} builders reinstalled first, all at once, in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
      `in that cold process ${((cpu.user + cpu.system) / 1000 / hosts).toFixed(1)} ms CPU per host, loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms ` +
      `(V8 compiling the hot code, first connections); the figures below are over the measured run after it (peak RSS over both)`,
  );
}

function documentWritesOf(store: Store): number | undefined {
  return (store as unknown as { documentWrites?: number }).documentWrites;
}

/** The median of 5 durable rewrites of a finished job, unchanged (the store writes the whole document each time). */
async function timeStoreWrite(store: { listJobs(f?: { host?: string; limit?: number }): Job[]; saveJob(j: Job): Promise<void> }, host: string): Promise<number> {
  const job = store.listJobs({ host, limit: 1 })[0];
  if (!job) return Number.NaN;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await store.saveJob(job);
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Approves whatever waits (a stopped run approves nothing more) until no job is active. */
async function finishInFlight(rekick: Rekick, chat: BenchChat): Promise<void> {
  for (;;) {
    const active = rekick.store.listJobs({ states: ACTIVE_JOB_STATES });
    if (!active.length) return;
    if (active.some((j) => j.state === 'awaiting-approval')) await chat.say('!approve all');
    await sleep(500);
  }
}

/**
 * The store, counting its durable writes. Each method is wrapped once (the scheduler reads the store a few thousand
 * times per pass: a function made per read would be the bench's own cost, counted as rekick's).
 */
function countWrites(store: Store): Store & { writes: number } {
  let writes = 0;
  const WRITES = new Set(['saveJob', 'saveJobs', 'saveHost', 'saveRolling', 'appendAudit']);
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(store as Store & { writes: number }, {
    get(target, prop) {
      if (prop === 'writes') return writes;
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let method = methods.get(prop);
      if (!method) {
        method = WRITES.has(String(prop))
          ? (...args: unknown[]) => {
              writes++;
              return value.apply(target, args);
            }
          : value.bind(target);
        methods.set(prop, method);
      }
      return method;
    },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
