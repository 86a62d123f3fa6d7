/**
 * A model-based test of the executor (issue 19): random sequences of orders — reinstall, cancel, retry, approve,
 * deny, `!approve all`, a Slack button click (bound to a job seen earlier, maybe an old one), a restart of the
 * process — issued concurrently against the real Executor and the real approve/deny commands, with fake steps and
 * a store whose writes become durable in an order fast-check's scheduler picks (writes touching different hosts in
 * any order), steps that fail, fail retryably or hang, and Koji calls that take their time.
 *
 * After every sequence, once nothing more can move, it checks:
 *  1. no host is enabled without an approval of the job that enabled it (a button approves its own job only;
 *     `!approve all` only a job announced before the command arrived), and only after that job's seven steps ran;
 *  2. an acknowledged cancel or deny is never followed by a step of that job (unless a later !retry);
 *  3. every host disabled by rekick has a job that says why (running, waiting, failed, cancelled or denied);
 *  4. the state on disk loads, with one unfinished job per host at most, and no job waits for approval with a cancel
 *     pending; no order ever fails with anything but a refusal;
 *  5. the fleet has a virthost with a guest: `!reinstall` of the virthost queues a linked guest job in the same write.
 *     The virthost is never touched (its stage-installer) while its guest is enabled in Koji, and the guest's job
 *     never goes past its wait for the virthost unless the virthost's job enabled it (or a person retried the guest).
 *     A cancel of the virthost's job while the guest waits ends the guest's job failed, the guest disabled.
 *
 * CI runs a fixed seed; a failure prints the seed and path. Replay: REKICK_MODEL_SEED=… REKICK_MODEL_PATH=…
 * (and REKICK_MODEL_RUNS=… for more or fewer sequences).
 */
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { approve, deny } from '../../commands';
import type { CommandContext, CommandSpec } from '../../commands/types';
import { ApprovalPrompts } from '../../src/chat/approval-prompts';
import { CodedError, StepError, UserError, abortReason } from '../../src/errors';
import { Executor } from '../../src/executor/executor';
import type { Step } from '../../src/steps/types';
import { ACTIVE_JOB_STATES, STEP_NAMES, type Identity, type Job, type Origin, type StepName } from '../../src/model';
import { ControlledStore, Disk } from '../fakes/controlled-store';
import { testConfig } from '../fakes/test-config';

/** The retry backoff waits on the scheduler too, so a sequence replays exactly (no wall-clock timer decides). */
const clock = vi.hoisted(() => ({ scheduler: undefined as undefined | { schedule<T>(p: Promise<T>, label?: string): Promise<T> } }));
vi.mock('../../src/util/sleep', async () => {
  const { abortReason: reason } = await import('../../src/errors');
  return {
    abortableSleep: (ms: number, signal?: AbortSignal): Promise<void> => {
      if (signal?.aborted) return Promise.reject(reason(signal));
      const s = clock.scheduler;
      const waited = s ? s.schedule(Promise.resolve(), `sleep ${ms}ms`) : new Promise<void>((r) => setTimeout(r, ms));
      if (!signal) return waited;
      // As the real one: the listener goes once the sleep is over (a virthost wait sleeps many times on one signal).
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(reason(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        waited.then(
          () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
          reject,
        );
      });
    },
  };
});

const VIRTHOST = 'vmhost-01';
const GUEST = 'buildvm-01';
const HOSTS = ['buildarm-01', 'buildarm-02', VIRTHOST, GUEST];
/** The virthost waits poll the store every koji.pollInterval (1 s here): the only sleeps of that length. */
const POLL_LABEL = 'sleep 1000ms';
const GATE_STEPS = STEP_NAMES.slice(0, 7);
const origin: Origin = { adapter: 'console', room: '#lab' };
const SEED = Number(process.env.REKICK_MODEL_SEED ?? 19_2026);
const RUNS = Number(process.env.REKICK_MODEL_RUNS ?? 500);
const PATH = process.env.REKICK_MODEL_PATH;

type Op =
  | { kind: 'reinstall' | 'cancel' | 'retry' | 'approve' | 'deny'; host: number; gap: number }
  | { kind: 'approve-all'; gap: number }
  | { kind: 'button'; verb: 'approve' | 'deny'; pick: number; gap: number }
  | { kind: 'restart' }
  | { kind: 'wait'; ticks: number }
  /** Lets things move until a job reaches the approval gate (or nothing moves). */
  | { kind: 'until-ready' };

type Fault = { host: number; step: StepName; kind: 'fail' | 'retryable' | 'hang' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('reinstall' as const), host: fc.nat(3), gap: fc.nat(3) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('cancel' as const), host: fc.nat(3), gap: fc.nat(3) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('approve' as const), host: fc.nat(3), gap: fc.nat(3) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('deny' as const), host: fc.nat(3), gap: fc.nat(3) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('retry' as const), host: fc.nat(3), gap: fc.nat(3) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('approve-all' as const), gap: fc.nat(3) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('button' as const), verb: fc.constantFrom('approve' as const, 'deny' as const), pick: fc.nat(7), gap: fc.nat(3) }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'restart' as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('wait' as const), ticks: fc.integer({ min: 1, max: 60 }) }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'until-ready' as const }), weight: 2 },
);

/**
 * A sequence in rounds, each: a few orders of any kind, a spell of letting things move (a few ticks, or until a job
 * is ready), then a few more orders (decisions come when something waits for one, as in real life, but any order
 * may come at any time).
 */
const opsArb: fc.Arbitrary<Op[]> = fc
  .array(
    fc.tuple(
      fc.array(opArb, { maxLength: 3 }),
      fc.oneof(fc.constant<Op>({ kind: 'until-ready' }), fc.record({ kind: fc.constant('wait' as const), ticks: fc.integer({ min: 1, max: 30 }) })),
      fc.array(opArb, { minLength: 1, maxLength: 4 }),
    ),
    { minLength: 1, maxLength: 5 },
  )
  .map((rounds) => rounds.flatMap(([before, spell, after]) => [...before, spell, ...after]));

const faultArb: fc.Arbitrary<Fault> = fc.record({
  host: fc.nat(HOSTS.length - 1),
  step: fc.constantFrom<StepName>(...STEP_NAMES),
  kind: fc.constantFrom('fail' as const, 'retryable' as const, 'hang' as const),
});

type Entry =
  | { t: 'op'; k: number; op: Op; gen: number; seen: string[]; button?: { jobId: string; host: string } }
  | { t: 'ack'; k: number; job?: string; jobs?: string[] }
  | { t: 'refused'; k: number; code: string; message: string }
  | { t: 'error'; k: number; error: string }
  | { t: 'lost'; k: number }
  /** The order is handled now (it decides synchronously from here). */
  | { t: 'run'; k: number }
  | { t: 'step-start' | 'step-ok'; job: string; host: string; step: StepName; gen: number }
  | { t: 'disable'; job: string; host: string }
  /** The virthost's stage-installer started (it is about to be touched) while its guest was enabled in Koji. */
  | { t: 'virthost-touched-guest-enabled'; job: string; guest: string }
  | { t: 'enable'; job: string; host: string; approvedBy?: string }
  | { t: 'event'; type: string; job?: string; gen: number }
  | { t: 'restart'; gen: number };

type Sched = fc.Scheduler<unknown>;

/** What the sequences did, summed (printed, so a model that stopped exercising something shows it). */
const tally = new Map<string, number>();
const count = (what: string, n = 1) => tally.set(what, (tally.get(what) ?? 0) + n);

function tallySequence(log: Entry[], ops: Op[], doc: ReturnType<Disk['document']>): void {
  for (const job of doc.jobs) {
    if (job.options.guestJobIds?.length) count('virthost jobs');
    if (job.options.guestJobIds?.length && job.state === 'cancelled') count('virthost jobs cancelled');
    if (job.options.virthostJobId) count('linked guest jobs');
    if (job.options.virthostJobId && job.error?.code === 'E_VIRTHOST_FAILED') count('guest jobs failed for their virthost');
    if (job.options.virthostJobId && job.state === 'succeeded') count('linked guest jobs enabled');
  }
  const kindOf = (k: number) => {
    const op = ops[k]!;
    return op.kind === 'button' ? `button-${op.verb}` : op.kind;
  };
  for (const e of log) {
    if (e.t === 'enable') count('enables');
    if (e.t === 'restart') count('restarts');
    if (e.t === 'ack') count(`${kindOf(e.k)} done`);
    if (e.t === 'refused') count(`${kindOf(e.k)} refused ${e.code}`);
    if (e.t === 'event' && e.type === 'awaiting-approval') count('ready');
    if (e.t === 'event' && e.type === 'step-failed') count('failures');
  }
}

/** Everything one sequence touches: the disk, Koji's hosts, the log of what happened, the current process. */
class World {
  readonly log: Entry[] = [];
  readonly disk = new Disk();
  readonly kojiEnabled = new Map(HOSTS.map((h) => [h, true]));
  readonly kojiComment = new Map<string, string>();
  /** Jobs announced as waiting for approval: the messages whose buttons a click may come from. */
  readonly announced: Array<{ jobId: string; host: string }> = [];
  gen = 0;
  ids = 0;
  ticks = 0;
  constructor(
    readonly s: Sched,
    private readonly faults: Fault[],
  ) {}

  record(e: Entry): void {
    this.log.push(e);
  }

  tick(): number {
    return ++this.ticks;
  }

  /** The first scripted fault for this host and step, used up. */
  takeFault(host: string, step: StepName): Fault['kind'] | undefined {
    const i = this.faults.findIndex((f) => HOSTS[f.host] === host && f.step === step);
    if (i < 0) return undefined;
    return this.faults.splice(i, 1)[0]!.kind;
  }
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** Eight fake steps for one process (generation): once it has died they do nothing more, ever. */
function modelSteps(world: World, gen: number): Step[] {
  return STEP_NAMES.map((name) => ({
    name,
    timeoutMs: () => 3_600_000,
    retry: true,
    abortable: name === 'drain' || name === 'wait-ssh',
    run: async (ctx) => {
      if (world.gen !== gen) return never();
      const job = ctx.job;
      const host = ctx.host.name;
      world.record({ t: 'step-start', job: job.id, host, step: name, gen });
      if (name === 'stage-installer' && host === VIRTHOST && world.kojiEnabled.get(GUEST)) world.record({ t: 'virthost-touched-guest-enabled', job: job.id, guest: GUEST });
      const fault = world.takeFault(host, name);
      const work = fault === 'hang' ? never<void>() : world.s.schedule(Promise.resolve(), `${host} ${name} ${job.id}`);
      await Promise.race([work, new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(abortReason(ctx.signal)), { once: true }))]);
      if (world.gen !== gen) return never();
      if (ctx.signal.aborted) throw abortReason(ctx.signal);
      if (fault === 'fail' || fault === 'retryable') throw new StepError('E_MODEL', `${name} failed (scripted)`, { retryable: fault === 'retryable' });
      if (name === 'disable') {
        world.kojiEnabled.set(host, false);
        job.kojiComment = `rekick: job ${job.id}`;
        world.kojiComment.set(host, job.kojiComment);
        world.record({ t: 'disable', job: job.id, host });
      }
      if (name === 'enable') {
        world.kojiEnabled.set(host, true);
        world.record({ t: 'enable', job: job.id, host, approvedBy: job.approval?.by.id });
      }
      world.record({ t: 'step-ok', job: job.id, host, step: name, gen });
    },
  }));
}

/** The Koji client the executor uses itself (comments on cancel, deny and failure): slow, and dead with its process. */
function modelKoji(world: World, gen: number): never {
  return {
    async setHostComment(host: string, comment: string) {
      if (world.gen !== gen) return never();
      await world.s.schedule(Promise.resolve(), `koji comment ${host}`);
      if (world.gen !== gen) return never();
      world.kojiComment.set(host, comment);
    },
    // The virthost's wait asks these of a guest whose job ended before its drain did.
    async getHost(host: string) {
      if (world.gen !== gen) return never();
      await world.s.schedule(Promise.resolve(), `koji getHost ${host}`);
      if (world.gen !== gen) return never();
      return { id: HOSTS.indexOf(host) + 1, name: host, arches: 'aarch64', enabled: world.kojiEnabled.get(host) ?? true, ready: true, comment: world.kojiComment.get(host) ?? null };
    },
    async listOpenTasks() {
      if (world.gen !== gen) return never();
      await world.s.schedule(Promise.resolve(), 'koji listOpenTasks');
      return [];
    },
  } as never;
}

interface Process {
  gen: number;
  store: ControlledStore;
  executor: Executor;
  prompts: ApprovalPrompts;
  /** The model's own record of what a person could have seen ready: waiting at start, or announced since. */
  shown: Set<string>;
}

async function startProcess(world: World): Promise<Process> {
  const gen = world.gen;
  const store = new ControlledStore(world.disk, (label) => world.s.schedule(Promise.resolve(), label));
  await store.open();
  const config = testConfig(
    {
      koji: { server: 'https://127.0.0.1:1/kojihub', cert: '/nonexistent.pem', pollInterval: '1s' },
      timeouts: { drain: '1h', sshReturn: '1h', step: '1h' },
      retry: { attempts: 2, backoff: '10ms', maxBackoff: '10ms' },
    },
    [
      { name: 'buildarm-01', arch: 'aarch64', kind: 'baremetal', groups: ['arm'] },
      { name: 'buildarm-02', arch: 'aarch64', kind: 'baremetal', groups: ['arm'] },
      { name: VIRTHOST, arch: 'aarch64', kind: 'virthost' },
      { name: GUEST, arch: 'aarch64', kind: 'virt', virthost: VIRTHOST, groups: ['arm'] },
    ],
  );
  const executor = new Executor({
    config,
    store,
    koji: modelKoji(world, gen),
    connector: {} as never,
    drivers: {} as never,
    log: pino({ level: 'silent' }),
    steps: modelSteps(world, gen),
    newId: () => `j${++world.ids}`,
  });
  // The notifier's part: a ready line is handed to chat as the event happens (the model's clock is a counter).
  const prompts = new ApprovalPrompts({ now: () => world.tick(), waitingAtStart: executor.queue().map((j) => j.id) });
  const shown = new Set(executor.queue().map((j) => j.id));
  executor.on((e) => {
    if (world.gen !== gen) return;
    const job = 'job' in e ? e.job.id : undefined;
    world.record({ t: 'event', type: e.type, job, gen });
    if (e.type === 'awaiting-approval') {
      prompts.announced(e.job.id);
      shown.add(e.job.id);
      world.announced.push({ jobId: e.job.id, host: e.job.host });
    }
    if (e.type === 'approved' || e.type === 'denied' || e.type === 'cancelled') prompts.forget(e.job.id);
  });
  return { gen, store, executor, prompts, shown };
}

/** Runs a chat command (approve, deny) as the router would, with what the model knows. */
function runCommand(spec: CommandSpec, words: string[], p: Process, by: Identity, extra: { receivedAt: Date; button?: { jobId?: string } }): Promise<unknown> {
  const replies: string[] = [];
  const ctx: CommandContext = {
    message: { origin, user: by, text: `!${spec.name} ${words.join(' ')}`, receivedAt: extra.receivedAt, button: extra.button, interactive: extra.button ? true : undefined },
    args: spec.parse(words),
    executor: p.executor,
    request: { by, origin },
    reply: async (t) => {
      replies.push(t);
    },
    log: pino({ level: 'silent' }),
    roles: undefined as never,
    commands: [],
    now: () => new Date(),
    seenBefore: (id, at) => p.prompts.seenBefore(id, at),
  };
  return spec.run(ctx).then(() => replies);
}

/**
 * The host an order names: mostly one where it applies when the order is typed (an operator cancels a running job,
 * approves a waiting one), so sequences get somewhere; `n` picks among them, or among all hosts when none fits.
 */
function pickHost(p: Process, kind: string, n: number): string {
  const job = (h: string) => p.store.activeJob(h);
  const fits = HOSTS.filter((h) => {
    if (kind === 'reinstall') return !job(h);
    if (kind === 'cancel') return Boolean(job(h));
    if (kind === 'approve' || kind === 'deny') return job(h)?.state === 'awaiting-approval';
    if (kind === 'retry') return p.store.listJobs({ host: h, limit: 1 })[0]?.state === 'failed';
    return true;
  });
  return fits.length && n < 3 ? fits[n % fits.length]! : HOSTS[n % HOSTS.length]!;
}

async function runSequence(s: Sched, ops: Op[], faults: Fault[]): Promise<void> {
  clock.scheduler = s;
  const world = new World(s, [...faults]);
  let p = await startProcess(world);
  const processes = [p];
  void p.executor.start();

  const flush = () => new Promise<void>((r) => setImmediate(r));
  const advance = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await flush();
      if (s.count() === 0) return;
      await s.waitNext(1);
    }
    await flush();
  };

  const untilReady = async () => {
    const ready = () => world.log.filter((e) => e.t === 'event' && e.type === 'awaiting-approval').length;
    const before = ready();
    for (let i = 0; i < 400 && ready() === before; i++) {
      await flush();
      if (s.count() === 0) return;
      await s.waitNext(1);
    }
    await flush();
  };

  const issue = (op: Exclude<Op, { kind: 'restart' | 'wait' | 'until-ready' }>, k: number) => {
    const proc = p;
    const receivedAt = new Date(world.tick());
    // What the sender could have seen when the line arrived (for `!approve all`), and which message a click is on.
    const seen = [...proc.shown];
    const button = op.kind === 'button' ? (world.announced.length ? world.announced[op.pick % world.announced.length]! : { jobId: 'j0', host: HOSTS[op.pick % 3]! }) : undefined;
    world.record({ t: 'op', k, op, gen: proc.gen, seen, button });
    const by: Identity = { source: 'console', id: `op${k}`, display: `person${k}` };
    const host = 'host' in op ? pickHost(proc, op.kind, op.host) : '';
    /** Runs the order; resolves with the ids of the jobs it acted on. */
    const run = async (): Promise<string[]> => {
      const ex = proc.executor;
      // approve and deny decide synchronously on the host's job as it is now (before their first await).
      const decidedOn = (host: string) => [proc.store.activeJob(host)?.id ?? ''];
      switch (op.kind) {
        case 'reinstall':
          return (await ex.reinstall({ hosts: [host], by, origin })).map((j) => j.id);
        case 'cancel':
          return [(await ex.cancel(host, { by, origin })).id];
        case 'retry':
          return [(await ex.retry(host, { by, origin })).id];
        case 'approve':
        case 'deny': {
          const on = decidedOn(host);
          await runCommand(op.kind === 'approve' ? approve : deny, [host], proc, by, { receivedAt });
          return on;
        }
        case 'approve-all':
          await runCommand(approve, ['all'], proc, by, { receivedAt });
          return [];
        case 'button': {
          const on = decidedOn(button!.host);
          await runCommand(op.verb === 'approve' ? approve : deny, [button!.host], proc, by, { receivedAt, button: { jobId: button!.jobId } });
          return on;
        }
      }
    };
    // The line reaches the process now; it is handled when the scheduler says (other work goes on meanwhile).
    void s
      .schedule(Promise.resolve(), `order ${k} ${op.kind}`)
      .then(() => {
        if (world.gen !== proc.gen) {
          world.record({ t: 'lost', k });
          return;
        }
        world.record({ t: 'run', k });
        return run().then(
          (jobs) => world.record({ t: 'ack', k, job: jobs[0], jobs }),
          (err: unknown) => {
            if (err instanceof UserError) world.record({ t: 'refused', k, code: err.code, message: err.message });
            else world.record({ t: 'error', k, error: err instanceof CodedError ? `${err.code}: ${err.message}` : String((err as Error)?.stack ?? err) });
          },
        );
      });
  };

  for (const [k, op] of ops.entries()) {
    if (op.kind === 'wait') {
      await advance(op.ticks);
    } else if (op.kind === 'until-ready') {
      await untilReady();
    } else if (op.kind === 'restart') {
      p.store.crash();
      world.gen++;
      world.record({ t: 'restart', gen: world.gen });
      p = await startProcess(world);
      processes.push(p);
      void p.executor.start();
    } else {
      issue(op, k);
      await advance(op.gap);
    }
  }
  // Everything that can still move moves (a hanging step stays where it is). A virthost wait polls for ever while
  // what it waits for cannot come (a guest waiting for a virthost that waits for an approval, or a wait in a process
  // that died): once only polls are left and a few rounds of them change nothing, nothing more moves.
  const onlyPolls = () => s.report().every((t) => t.status !== 'pending' || t.label === POLL_LABEL);
  for (let i = 0, quiet = 0; ; i++) {
    await flush();
    if (s.count() === 0) break;
    if (i > 20_000) throw new Error('the sequence never settles');
    if (onlyPolls()) {
      const before = world.log.length;
      await s.waitNext(s.count());
      await flush();
      quiet = world.log.length === before && onlyPolls() ? quiet + 1 : 0;
      if (quiet >= 3) break;
      continue;
    }
    quiet = 0;
    await s.waitNext(1);
  }
  await flush();
  const live = p;
  world.gen = -1; // nothing of any process has an effect any more
  tallySequence(world.log, ops, world.disk.document());
  try {
    check(world, ops, live);
  } finally {
    for (const proc of processes) void proc.executor.stop(0).catch(() => undefined);
    clock.scheduler = undefined;
  }
}

/** The invariants. Throws an Error naming the one broken, with the log around it. */
function check(world: World, ops: Op[], live: Process): void {
  const log = world.log;
  const fail = (what: string, at?: number): never => {
    const from = Math.max(0, (at ?? log.length) - 40);
    const tail = log
      .slice(from, (at ?? log.length) + 5)
      .map((e, i) => `${from + i}: ${JSON.stringify(e)}`)
      .join('\n');
    throw new Error(`${what}\nops: ${JSON.stringify(ops)}\nlog:\n${tail}`);
  };
  const opEntry = (k: number) => log.find((e): e is Extract<Entry, { t: 'op' }> => e.t === 'op' && e.k === k);

  // No order fails with anything but a refusal.
  const error = log.findIndex((e) => e.t === 'error');
  if (error >= 0) fail('an order failed with an internal error', error);

  // 1. No host enabled without an approval of the job that enabled it, given after that job's seven steps ran.
  log.forEach((e, i) => {
    if (e.t !== 'enable') return;
    const k = Number(e.approvedBy?.replace(/^op/, ''));
    const approval = Number.isInteger(k) ? opEntry(k) : undefined;
    if (!approval) return fail(`${e.host} was enabled by job ${e.job} without an approval by a person`, i);
    const op = approval.op;
    if (op.kind === 'button' && (op.verb !== 'approve' || approval.button?.jobId !== e.job)) {
      fail(`${e.host} was enabled by job ${e.job} on a button click (order ${k}) on the message of job ${approval.button?.jobId}`, i);
    }
    if (op.kind === 'approve-all' && !approval.seen.includes(e.job)) {
      fail(`${e.host} was enabled by job ${e.job} on !approve all (order ${k}) that could not have seen it ready`, i);
    }
    if (!['approve', 'approve-all', 'button'].includes(op.kind)) fail(`${e.host} was enabled by job ${e.job} on order ${k} (${op.kind}), not an approval`, i);
    const opAt = log.findIndex((x) => x.t === 'run' && x.k === k);
    for (const step of GATE_STEPS) {
      if (!log.slice(0, opAt).some((x) => x.t === 'step-ok' && x.job === e.job && x.step === step)) {
        fail(`${e.host} was enabled by job ${e.job}, approved (order ${k}) before its step ${step} had run`, i);
      }
    }
  });

  // 2. An acknowledged cancel or deny is never followed by a step of that job (a later !retry is a new order).
  log.forEach((e, i) => {
    if (e.t !== 'ack' || !e.job) return;
    const op = opEntry(e.k)!.op;
    const stops = op.kind === 'cancel' || op.kind === 'deny' || (op.kind === 'button' && op.verb === 'deny');
    if (!stops) return;
    for (let j = i + 1; j < log.length; j++) {
      const x = log[j]!;
      if (x.t === 'ack' && x.job === e.job && opEntry(x.k)!.op.kind === 'retry') break;
      if (x.t === 'step-start' && x.job === e.job) fail(`job ${e.job}: step ${x.step} started after its ${op.kind} (order ${e.k}) was acknowledged`, j);
    }
  });

  // 2b. An acknowledged order is not undone: on disk a denied job stays denied, a cancelled one ends cancelled (or
  // failed, or still stopping in a step that hangs), an approved one goes on to enable (unless a later !retry).
  const doc = world.disk.document();
  log.forEach((e, i) => {
    if (e.t !== 'ack' || !e.job) return;
    const op = opEntry(e.k)!.op;
    const kind = op.kind === 'button' ? op.verb : op.kind;
    const job = doc.jobs.find((j) => j.id === e.job);
    const retried = log.slice(i + 1).some((x) => x.t === 'ack' && x.job === e.job && opEntry(x.k)!.op.kind === 'retry');
    if (!job || retried) return;
    if (kind === 'deny' && job.state !== 'denied') fail(`job ${job.id} was denied (order ${e.k}) but is ${job.state} on disk`, i);
    if (kind === 'cancel' && !['cancelled', 'failed'].includes(job.state) && !(ACTIVE_JOB_STATES.includes(job.state) && job.cancel && job.state !== 'awaiting-approval')) {
      fail(`job ${job.id} was cancelled (order ${e.k}) but is ${job.state} on disk${job.cancel ? '' : ' without its cancel'}`, i);
    }
    if (kind === 'approve' && !['enabling', 'succeeded', 'failed'].includes(job.state)) fail(`job ${job.id} was approved (order ${e.k}) but is ${job.state} on disk`, i);
  });

  // 3. Every host disabled by rekick has a job that says why.
  for (const host of HOSTS) {
    if (world.kojiEnabled.get(host)) continue;
    const jobs = doc.jobs.filter((j) => j.host === host);
    // The host's unfinished job, else its newest (on disk in the order first saved).
    const latest = jobs.find((j) => ACTIVE_JOB_STATES.includes(j.state)) ?? jobs.reduce<Job | undefined>((a, b) => (!a || b.createdAt >= a.createdAt ? b : a), undefined);
    if (!latest) fail(`${host} is disabled in Koji and no job on disk says why`);
    const says =
      ACTIVE_JOB_STATES.includes(latest!.state) ||
      (latest!.state === 'failed' && latest!.error) ||
      (latest!.state === 'cancelled' && latest!.cancel) ||
      (latest!.state === 'denied' && latest!.denial);
    if (!says) fail(`${host} is disabled in Koji but its job ${latest!.id} on disk is ${latest!.state} without a reason`);
  }

  // 5. A virthost and its guest: never touched while the guest is enabled; the guest waits for the virthost.
  const touched = log.findIndex((e) => e.t === 'virthost-touched-guest-enabled');
  if (touched >= 0) fail(`${VIRTHOST} was touched (stage-installer) while its guest ${GUEST} was enabled in Koji`, touched);
  log.forEach((e, i) => {
    if (e.t !== 'step-start' || e.step !== 'stage-installer') return;
    const job = doc.jobs.find((j) => j.id === e.job);
    const vh = job?.options.virthostJobId;
    if (!vh) return;
    const vhEnabled = log.slice(0, i).some((x) => x.t === 'enable' && x.job === vh);
    const retried = log.slice(0, i).some((x) => x.t === 'ack' && x.job === e.job && opEntry(x.k)!.op.kind === 'retry');
    if (!vhEnabled && !retried) fail(`${e.host}'s job ${e.job} went past its wait for ${VIRTHOST}'s job ${vh}, which had not enabled ${VIRTHOST}`, i);
  });
  for (const vhJob of doc.jobs.filter((j) => j.options.guestJobIds?.length && j.state === 'cancelled')) {
    for (const id of vhJob.options.guestJobIds!) {
      const guest = doc.jobs.find((j) => j.id === id);
      if (!guest || guest.state === 'cancelled' || guest.state === 'failed' || ACTIVE_JOB_STATES.includes(guest.state)) continue;
      const retried = log.some((x) => x.t === 'ack' && x.job === id && opEntry(x.k)!.op.kind === 'retry');
      if (!retried) fail(`${VIRTHOST}'s job ${vhJob.id} was cancelled, yet its guest's job ${id} ended ${guest.state}`);
    }
  }

  // 4. The disk loads: its shape, one unfinished job per host, each job's state consistent with its record.
  const problems = world.disk.problems();
  if (problems.length) fail(`the state on disk does not load: ${problems.join('; ')}`);
  for (const host of HOSTS) {
    const active = doc.jobs.filter((j) => j.host === host && ACTIVE_JOB_STATES.includes(j.state));
    if (active.length > 1) fail(`${host} has ${active.length} unfinished jobs on disk: ${active.map((j) => j.id).join(', ')}`);
  }
  for (const job of doc.jobs) {
    if (['awaiting-approval', 'enabling', 'succeeded'].includes(job.state) && !job.steps.slice(0, 7).every((st) => st.status === 'succeeded')) {
      fail(`job ${job.id} is ${job.state} on disk without its seven steps done`);
    }
    if (['enabling', 'succeeded'].includes(job.state) && !job.approval) fail(`job ${job.id} is ${job.state} on disk without an approval`);
  }
  for (const job of live.store.listJobs({ states: ['awaiting-approval'] })) {
    if (job.cancel) fail(`job ${job.id} waits for approval with a cancel pending (by ${job.cancel.by.display}): the cancel is ignored`);
  }
}

describe('executor model: orders under every interleaving', () => {
  it(
    'random orders, restarts, slow writes and failing steps never enable an unapproved job, undo a cancel or deny, or leave a disabled host unexplained',
    async () => {
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), opsArb, fc.array(faultArb, { maxLength: 4 }), async (s, ops, faults) => {
          runs++;
          await runSequence(s, ops, faults);
        }),
        { seed: SEED, numRuns: RUNS, ...(PATH ? { path: PATH, endOnFailure: true } : {}) },
      );
      const summary = [...tally.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([what, n]) => `${what} ${n}`).join(', ');
      console.log(`executor model: ${runs} sequences, seed ${SEED}${PATH ? `, path ${PATH}` : ''} (${summary})`);
      expect(runs).toBeGreaterThanOrEqual(PATH ? 1 : RUNS);
    },
    180_000,
  );
});
