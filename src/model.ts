/**
 * rekick's domain types: jobs, steps, identities and the events the executor emits. Everything that crosses a
 * module boundary and is persisted or rendered is defined here, so the store, the executor and the chat side
 * agree on one shape.
 */

export const STEP_NAMES = [
  'disable',
  'drain',
  'stage-installer',
  'reinstall',
  'wait-ssh',
  'post-install',
  'reboot-verify',
  'enable',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** Where a chat line came from. `console` is the lab terminal; `cli` the command line; `rolling` the scheduler. */
export type SourceKind = 'irc' | 'slack' | 'console' | 'cli' | 'rolling' | 'http';

/**
 * Who asked. `id` is the stable identity (IRC services account, Slack user id), never a nick; roles are granted
 * to `${source}:${id}`. `display` is what chat shows. An IRC user who is not logged in has `id: undefined`.
 */
export interface Identity {
  source: SourceKind;
  id?: string;
  display: string;
  /** IRC: why the sender's services account could not be confirmed (then no id, and role commands are refused). */
  unconfirmed?: string;
}

/** Where a reply goes: the adapter, the room (channel id or nick for a private message), and a thread if any. */
export interface Origin {
  adapter: string;
  room: string;
  thread?: string;
  private?: boolean;
  /**
   * IRC private message: the services account of the user who sent it. A job's progress goes to the nick that holds
   * this account when the line is sent, never to whoever has taken `room` since.
   */
  account?: string;
}

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

/** A step's or job's error as recorded in the state file (the thrown one is the StepError class, src/errors.ts). */
export interface StepErrorRecord {
  code: string;
  message: string;
}

export interface StepRecord {
  name: StepName;
  status: StepStatus;
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  error?: StepErrorRecord;
  /** Last lines of remote output (secrets never stored). */
  outputTail?: string[];
  /** A short "what it is waiting for" line, e.g. drain's task list or wait-ssh's "port open, no handshake". */
  progress?: string;
}

export type JobState =
  | 'queued'
  | 'running'
  | 'awaiting-approval'
  | 'enabling'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'denied';

export const ACTIVE_JOB_STATES: readonly JobState[] = ['queued', 'running', 'awaiting-approval', 'enabling'];
export const FINISHED_JOB_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'denied'];

export interface Decision {
  by: Identity;
  at: string;
  override?: boolean;
  reason?: string;
  auto?: boolean;
}

/** What Koji said of the host before rekick touched it (recorded by `disable`). */
export interface KojiBefore {
  enabled: boolean;
  comment: string | null;
}

export interface Job {
  id: string;
  host: string;
  state: JobState;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  requestedBy: Identity;
  origin: Origin;
  reason?: string;
  options: { forceDrain?: boolean; rollingRunId?: string; dryRun?: boolean } & VirthostLinks;
  steps: StepRecord[];
  /** Index into steps of the step running, or to run next. */
  current: number;
  kojiBefore?: KojiBefore;
  /** The comment rekick set on disable; `enable` checks it is still there. */
  kojiComment?: string;
  approval?: Decision;
  denial?: Decision;
  cancel?: Decision;
  /** Host key accepted after the reinstall (SHA256 fingerprints). */
  hostKey?: { previous?: string; accepted: string; at: string };
  /** What identified the old system, recorded by stage-installer before anything was armed (kept across re-runs). */
  before?: SystemBefore;
  /** What showed, in wait-ssh, that the host came back as a new system; its `hostKey.after` is pinned from then on. */
  proof?: ReinstallProof;
  /**
   * A job cancelled or failed after stage-installer started and before a new system was proven: what became of the
   * installer it may have armed (src/steps/disarm-installer.ts). `pending` is written with the cancel or failure and
   * replaced by the outcome; a restart finishes a pending one.
   */
  disarm?: DisarmRecord;
  /** Scratch data a step keeps across a restart (e.g. when drain started waiting). */
  data: Record<string, unknown>;
  error?: StepErrorRecord & { step: StepName };
}

/**
 * How the jobs of one `!reinstall VIRTHOST` are linked (src/executor/virthost-guests.ts): the virthost's job
 * names its guests' jobs, each guest's job names the virthost and its job. Written once, with the jobs.
 */
export interface VirthostLinks {
  /** On a guest's job: its virthost, reinstalled by the job `virthostJobId` (the guest waits for that job). */
  virthost?: string;
  virthostJobId?: string;
  /** On a virthost's job: the jobs of its guests (the virthost waits until they have drained). */
  guestJobIds?: string[];
}

/** What identified the installed system before the installer was armed (recorded once per job, by stage-installer). */
export interface SystemBefore {
  at: string;
  /**
   * SHA256 fingerprints of the old system's host keys: the one it presented and those known_hosts listed for it.
   * Empty when none was known (a virt guest that was down and not in known_hosts).
   */
  hostKeys: string[];
  /** Its /etc/machine-id, when it could be read. */
  machineId?: string;
  /** `host`: read from the host over SSH; `known_hosts`: the host did not answer (a virt guest that was down). */
  from: 'host' | 'known_hosts';
}

/** What a reinstall changed: the proof that the host runs a new system (recorded by wait-ssh). */
export interface ReinstallProof {
  at: string;
  /** `before`: the old system's key (undefined: none recorded); `after`: the key it came back with (pinned). */
  hostKey: { before?: string; after?: string };
  machineId: { before?: string; after?: string };
  /** What differs from the old system. Empty only for a virt guest proven by `basis: 'virt-install'`. */
  changed: Array<'host key' | 'machine-id'>;
  /**
   * Set when nothing recorded could be compared: a virt guest whose domain this job undefined and re-created with
   * virt-install, with no record of its old system (it was down, not in known_hosts, or its machine-id unread).
   */
  basis?: 'virt-install';
}

/**
 * What became of the installer a cancelled or failed job may have armed. Bare metal: `pending` (to be done, written
 * with the cancel or failure), `disarmed` (next_entry unset and/or rekick's grub entry removed), `nothing-armed`
 * (checked: neither was there), `installer-ran` (after the reboot into the installer the host answered with a new
 * host key: the one-time entry was used, and the old disk with it is gone), `failed` (the host did not answer, or a
 * command failed: its next reboot may run the installer). A virt guest has nothing to disarm: `vm-gone` (stage-installer destroyed and undefined its VM).
 */
export interface DisarmRecord {
  outcome: 'pending' | 'disarmed' | 'nothing-armed' | 'installer-ran' | 'failed' | 'vm-gone';
  /** When the outcome was recorded. */
  at: string;
  /** What was done or seen, or why it failed, in one line. */
  detail?: string;
}

export interface AuditEntry {
  at: string;
  who: Identity;
  origin?: Origin;
  action: string;
  host?: string;
  jobId?: string;
  outcome: 'ok' | 'refused' | 'error';
  detail?: string;
  /**
   * Entries of the refusal list only (outcome `refused` or `error`, kept apart from the security actions): the
   * same refusal repeated is one entry, `count` times, the first at `at` and the last at `lastAt`. A summary of a
   * minute's refusals from outside (no trustworthy identity) is one too.
   */
  count?: number;
  lastAt?: string;
}

/** Per host facts that outlive jobs. */
export interface HostRecord {
  name: string;
  lastReinstalledAt?: string;
  lastJobId?: string;
  lastOutcome?: JobState;
}

export interface RollingRun {
  id: string;
  state: 'running' | 'paused' | 'stopped' | 'finished';
  startedAt: string;
  endedAt?: string;
  startedBy: Identity;
  origin: Origin;
  fraction: number;
  group?: string;
  continuous: boolean;
  /** The hosts of the run in the order they are taken (least recently reinstalled first). */
  order: string[];
  /** host -> job id for hosts the run has started. */
  jobs: Record<string, string>;
  done: string[];
  failed: Array<{ host: string; step?: StepName; message: string }>;
  pausedReason?: string;
  lastProgressAt?: string;
  /** Hosts in flight at once: ceil(fraction × size of the fleet or group), at least 1, fixed at start. */
  slots?: number;
  /** How many hosts the fleet or group had at start. */
  size?: number;
  /** Failures already reported when the run was last resumed: the failure budget counts from there. */
  acknowledgedFailures?: number;
  /** host -> when the run last started it (the scheduler's clock): a continuous run starts a host at most once a cadence. */
  hostStartedAt?: Record<string, string>;
  /** Who stopped the run (state 'stopped'). */
  stoppedBy?: Identity;
  /** The virthosts of the run (fixed at start): its counts say builders and virthosts apart. */
  virthosts?: string[];
  /** Virthosts left out at start: with their guests they need more slots than the run has. */
  leftOut?: RollingLeftOut[];
}

/** A virthost a rolling run cannot take: it and its guests leave Koji together and need `need` slots. */
export interface RollingLeftOut {
  host: string;
  guests: number;
  need: number;
  /** What it would exceed, e.g. `the run has 2` or `rolling.maxPerArch is 2 (x86_64)`. */
  limit: string;
}

/** Events the executor emits; the notifier renders them for every chat. */
export type ExecutorEvent =
  | { type: 'job-queued'; job: Job }
  | { type: 'step-started'; job: Job; step: StepName; index: number }
  | { type: 'step-progress'; job: Job; step: StepName; message: string }
  | { type: 'step-succeeded'; job: Job; step: StepName; index: number; durationMs: number }
  | { type: 'step-retrying'; job: Job; step: StepName; attempt: number; delayMs: number; error: StepErrorRecord }
  | { type: 'step-failed'; job: Job; step: StepName; index: number; error: StepErrorRecord; outputTail: string[] }
  | { type: 'host-key-changed'; job: Job; previous?: string; fingerprint: string }
  | { type: 'awaiting-approval'; job: Job }
  | { type: 'approved'; job: Job; by: Identity; override: boolean; auto: boolean }
  | { type: 'denied'; job: Job; by: Identity; reason?: string }
  | { type: 'enabled'; job: Job }
  | { type: 'cancelled'; job: Job; by: Identity }
  | { type: 'notice'; level: 'info' | 'warn' | 'error'; text: string; origin?: Origin };

export type ExecutorEventType = ExecutorEvent['type'];
