/**
 * The IRC outbox: every line rekick means to say, in order, until the server has confirmed it (IRCv3
 * echo-message) or, without echo-message, until it was written. Lines written but not confirmed when the
 * connection drops go back to the front, so a reconnect delivers them: nothing lost, nothing twice.
 *
 * When a backlog builds (more than `threshold` lines waiting), the waiting progress lines of a room are
 * summarised into a few lines with each host's latest step, in place of the first of them; failure, approval
 * and other lines stay verbatim and in order.
 */
export interface OutboxLine {
  target: string;
  text: string;
  /** Progress lines that may be summarised: the host and a short state ("[4/8] reinstall ok 3m"). */
  progress?: { host: string; state: string };
  /** A summary line: the host states it stands for (merged again if the backlog grows further). */
  summary?: { states: Map<string, string>; updates: number };
  sentAt?: number;
}

export interface OutboxOptions {
  /** Waiting lines above which progress is summarised (default 20). */
  threshold?: number;
  /** Cuts a summary into lines that fit a PRIVMSG to target. */
  split: (text: string, target: string) => string[];
}

const sameTarget = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export class IrcOutbox {
  private pending: OutboxLine[] = [];
  private inFlight: OutboxLine[] = [];
  private readonly threshold: number;
  private readonly split: (text: string, target: string) => string[];
  /** How many progress lines were folded into summaries (metrics, tests). */
  summarised = 0;

  constructor(options: OutboxOptions) {
    this.threshold = options.threshold ?? 20;
    this.split = options.split;
  }

  get waiting(): number {
    return this.pending.length;
  }

  get unconfirmed(): number {
    return this.inFlight.length;
  }

  /** Adds the lines of one message (kept together), then summarises if the backlog is long. */
  push(lines: OutboxLine[]): void {
    this.pending.push(...lines);
    if (this.pending.length > this.threshold) this.compact();
  }

  /** The next line to write, moved to the unconfirmed list. */
  take(now: number): OutboxLine | undefined {
    const line = this.pending.shift();
    if (!line) return undefined;
    line.sentAt = now;
    this.inFlight.push(line);
    return line;
  }

  /** The server echoed a line back: it was delivered. Returns whether it was one of ours. */
  confirm(target: string, text: string): boolean {
    const i = this.inFlight.findIndex((l) => sameTarget(l.target, target) && l.text === text);
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

  /** The connection dropped: unconfirmed lines go back to the front, in order. */
  requeue(): void {
    this.pending.unshift(...this.inFlight);
    this.inFlight = [];
    if (this.pending.length > this.threshold) this.compact();
  }

  /** Every line not yet confirmed (tests, shutdown logs). */
  all(): OutboxLine[] {
    return [...this.inFlight, ...this.pending];
  }

  private compact(): void {
    const targets = [...new Set(this.pending.filter((l) => l.progress || l.summary).map((l) => l.target.toLowerCase()))];
    for (const t of targets) {
      const foldable = this.pending.filter((l) => sameTarget(l.target, t) && (l.progress || l.summary));
      if (foldable.length < 2) continue;
      const states = new Map<string, string>();
      let updates = 0;
      for (const l of foldable) {
        if (l.summary) {
          for (const [host, state] of l.summary.states) {
            states.delete(host);
            states.set(host, state);
          }
          updates += l.summary.updates;
        } else if (l.progress) {
          states.delete(l.progress.host);
          states.set(l.progress.host, l.progress.state);
          updates += 1;
        }
      }
      const fresh = foldable.filter((l) => l.progress).length;
      this.summarised += fresh;
      const target = foldable[0]!.target;
      const text = `progress, ${updates} updates summarised (latest per host, ${states.size} hosts): ${[...states]
        .map(([host, state]) => `${host} ${state}`)
        .join(' | ')}`;
      const lines: OutboxLine[] = this.split(text, target).map((piece) => ({ target, text: piece, summary: { states: new Map(), updates: 0 } }));
      // The whole summary is carried by its first line; the others only continue the text.
      lines[0]!.summary = { states, updates };
      // In place of the first folded line (continuation lines of an older summary are folded too).
      const at = this.pending.indexOf(foldable[0]!);
      const rest = this.pending.filter((l) => !foldable.includes(l));
      rest.splice(at, 0, ...lines);
      this.pending = rest;
    }
  }
}
