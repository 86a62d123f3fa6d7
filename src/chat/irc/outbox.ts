/**
 * The IRC outbox: every line rekick means to say, in order, until the server has confirmed it (IRCv3
 * echo-message) or, without echo-message, until it was written. Lines written but not confirmed when the
 * connection drops go back to the front, so a reconnect delivers them: nothing lost, nothing twice.
 *
 * When a backlog builds (more than `threshold` lines waiting), the waiting progress lines of a room are
 * summarised (outbox-summary.ts).
 *
 * Urgent lines (failures, approval prompts, host keys, warnings) go ahead of everything else, each after its own
 * host's waiting progress lines (a waiting summary takes the host's new state), and are never dropped by the reply
 * cap. Replies to commands (anyone can ask for them) are capped per target and in total: what does not fit is
 * dropped, and one line per target says how many lines were (outbox-caps.ts). Memory stays bounded whatever
 * anyone types.
 */
import { sameName } from './casefold';
import { dropUrgent, pushCappedReply } from './outbox-caps';
import { foldAll, foldTarget } from './outbox-summary';

export interface OutboxLine {
  target: string;
  text: string;
  /** Progress lines that may be summarised: the host and a short state ("[4/8] reinstall ok 3m"). */
  progress?: { host: string; state: string };
  /** A summary line: the host states it stands for (merged again if the backlog grows further). */
  summary?: { states: Map<string, string>; updates: number };
  /** Sent ahead of other lines (failure, approval prompt, host key, warning); not dropped by the reply cap. */
  urgent?: boolean;
  /** The host an urgent line is about: its waiting progress goes ahead with it, so the host's lines stay in order. */
  host?: string;
  /** The host's state after an urgent line ("[3/8] stage-installer failed"), for a waiting summary that names it. */
  state?: string;
  /** A reply to a command (or a refusal): capped per target and in total. */
  reply?: boolean;
  /** A "… N more lines dropped" line: how many lines it stands for. */
  dropped?: number;
  sentAt?: number;
}

export interface OutboxOptions {
  /** Waiting lines above which progress is summarised (default 20). */
  threshold?: number;
  /** Cuts a summary into lines that fit a PRIVMSG to target. */
  split: (text: string, target: string) => string[];
  /** Reply lines that may wait for one target (default 30); what does not fit is dropped and counted. */
  maxRepliesPerTarget?: number;
  /** Reply lines that may wait for all targets together (default 120). */
  maxReplies?: number;
  /** Urgent lines that may wait (default 2000; only a fleet-wide failure comes near it). */
  maxUrgent?: number;
}

export const DEFAULT_MAX_REPLIES_PER_TARGET = 30;
export const DEFAULT_MAX_REPLIES = 120;
export const DEFAULT_MAX_URGENT = 2000;

export class IrcOutbox {
  /** Urgent lines, sent first. */
  private urgent: OutboxLine[] = [];
  /** Progress, replies and other lines, in order. */
  private pending: OutboxLine[] = [];
  private inFlight: OutboxLine[] = [];
  private readonly threshold: number;
  private readonly split: (text: string, target: string) => string[];
  private readonly maxRepliesPerTarget: number;
  private readonly maxReplies: number;
  private readonly maxUrgent: number;
  /** How many progress lines were folded into summaries (metrics, tests). */
  summarised = 0;
  /** How many lines the caps dropped (metrics, tests). */
  dropped = 0;

  constructor(options: OutboxOptions) {
    this.threshold = options.threshold ?? 20;
    this.split = options.split;
    this.maxRepliesPerTarget = Math.max(2, options.maxRepliesPerTarget ?? DEFAULT_MAX_REPLIES_PER_TARGET);
    this.maxReplies = Math.max(this.maxRepliesPerTarget, options.maxReplies ?? DEFAULT_MAX_REPLIES);
    this.maxUrgent = Math.max(1, options.maxUrgent ?? DEFAULT_MAX_URGENT);
  }

  get waiting(): number {
    return this.urgent.length + this.pending.length;
  }

  /** Urgent lines waiting (they go ahead of WHOIS; other lines go after it). */
  get urgentWaiting(): number {
    return this.urgent.length;
  }

  get unconfirmed(): number {
    return this.inFlight.length;
  }

  /**
   * Adds the lines of one message (kept together; all of one kind: urgent, reply or other), then summarises if
   * the backlog is long.
   */
  push(lines: OutboxLine[]): void {
    if (!lines.length) return;
    if (lines[0]!.urgent) this.pushUrgent(lines);
    else if (lines[0]!.reply) this.pushReply(lines);
    else this.pending.push(...lines);
    if (this.pending.length > this.threshold) this.compact();
  }

  /** The next line to write (urgent ones first), moved to the unconfirmed list. */
  take(now: number): OutboxLine | undefined {
    const line = this.urgent.shift() ?? this.pending.shift();
    if (!line) return undefined;
    line.sentAt = now;
    this.inFlight.push(line);
    return line;
  }

  /** The server echoed a line back: it was delivered. Returns whether it was one of ours. */
  confirm(target: string, text: string): boolean {
    const i = this.inFlight.findIndex((l) => sameName(l.target, target) && l.text === text);
    if (i < 0) return false;
    this.inFlight.splice(i, 1);
    return true;
  }

  /** Without echo-message a written line counts as delivered. */
  confirmWritten(line: OutboxLine): void {
    const i = this.inFlight.indexOf(line);
    if (i >= 0) this.inFlight.splice(i, 1);
  }

  /** Lines unconfirmed for longer than ms (the server refused them silently): dropped, returned for logging. */
  expire(now: number, ms: number): OutboxLine[] {
    const old = this.inFlight.filter((l) => (l.sentAt ?? now) + ms < now);
    if (old.length) this.inFlight = this.inFlight.filter((l) => !old.includes(l));
    return old;
  }

  /** The connection dropped: unconfirmed lines go back to the front (of their queue), in order. */
  requeue(): void {
    this.urgent.unshift(...this.inFlight.filter((l) => l.urgent));
    this.pending.unshift(...this.inFlight.filter((l) => !l.urgent));
    this.inFlight = [];
    if (this.pending.length > this.threshold) this.compact();
  }

  /** Every line not yet confirmed, in the order they go (tests, shutdown logs). */
  all(): OutboxLine[] {
    return [...this.inFlight, ...this.urgent, ...this.pending];
  }

  /**
   * An urgent message goes ahead of the other lines, after the waiting progress lines of its own host (moved
   * ahead with it, so "[3/8] …" never comes after "[3/8] failed"). Past maxUrgent its lines are dropped and
   * counted on one line per target (urgent lines come from jobs and warnings, not from anyone's typing).
   */
  private pushUrgent(lines: OutboxLine[]): void {
    const { target, host } = lines[0]!;
    if (this.urgent.length + lines.length > this.maxUrgent) {
      this.dropped += dropUrgent(this.urgent, lines);
      return;
    }
    if (host !== undefined) {
      // The host's verbatim progress goes ahead with it; a waiting summary takes the urgent line's state for the
      // host, so nothing sent later says an older state of the host than the urgent line.
      const own = this.pending.filter((l) => l.progress?.host === host && sameName(l.target, target));
      this.pending = this.pending.filter((l) => !own.includes(l));
      this.urgent.push(...own);
      const state = lines[0]!.state;
      if (state !== undefined && this.pending.some((l) => sameName(l.target, target) && l.summary?.states.has(host))) this.fold(target, { host, state });
    }
    this.urgent.push(...lines);
  }

  /** A reply takes what room is left for its target and in total (outbox-caps.ts). */
  private pushReply(lines: OutboxLine[]): void {
    this.dropped += pushCappedReply(this.pending, lines, this.maxRepliesPerTarget, this.maxReplies);
  }

  private compact(): void {
    const r = foldAll(this.pending, this.split);
    this.pending = r.pending;
    this.summarised += r.folded;
  }

  private fold(t: string, latest: { host: string; state: string }): void {
    const r = foldTarget(this.pending, t, this.split, latest);
    if (!r) return;
    this.pending = r.pending;
    this.summarised += r.folded;
  }
}
