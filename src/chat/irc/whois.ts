/**
 * WHOIS requests on one connection with one shared `whois` listener (irc-framework's `whois(nick, cb)` adds a
 * listener per call and removes it only when an answer comes: every timed-out WHOIS leaked one).
 *
 * A request does not write its WHOIS: it is queued, and the adapter's pump writes the queued WHOIS (sendNext)
 * when its pacer allows, so rekick's lines to the server (WHOIS and its own output together) never exceed the
 * pace, whatever anyone types. Requests for a nick whose WHOIS is still queued share it: it is written after all
 * of them arrived, so its answer is valid for each. A WHOIS already written is never shared with a request that
 * came after it (its answer may tell of the state before that request's line was sent). A nick has at most one
 * queued WHOIS; the queue holds at most `maxQueued` nicks (past it a request is `busy` at once), and it is served
 * least-recently-asked nick first, so a few nicks that flood cannot hold back someone else's WHOIS for long.
 *
 * A request whose deadline passes while its WHOIS is queued times out, and the WHOIS is dropped if no other
 * request waits for it (never written). The server answers WHOIS in the order written, so an answer goes to the
 * oldest written WHOIS of that nick; a written WHOIS whose requests all timed out stays until its (late) answer
 * comes and takes it, so a late answer is never taken for a newer WHOIS's. At most `maxInFlight` WHOIS are
 * written and unanswered at once (a server that lags gets no more until it answers).
 */
import type { CaseFold } from './casefold';

export type WhoisOutcome =
  | { kind: 'answer'; nick: string; ident?: string; hostname?: string; account?: string }
  | { kind: 'not-found' }
  | { kind: 'timeout' }
  /** Too many nicks already wait for a WHOIS: not asked. */
  | { kind: 'busy' }
  | { kind: 'closed' };

export interface WhoisClient {
  raw(line: string): void;
  on(event: 'whois', listener: (event: WhoisReply) => void): unknown;
  removeListener(event: 'whois', listener: (event: WhoisReply) => void): unknown;
}

/** irc-framework's `whois` event (RPL_ENDOFWHOIS): error `not_found` when there is no such nick. */
export interface WhoisReply {
  nick: string;
  ident?: string;
  hostname?: string;
  account?: string;
  error?: string;
}

/** Counts kept across connections (the adapter's stats). */
export interface WhoisCounters {
  /** WHOIS written to the server. */
  sent: number;
  /** Requests that timed out before their WHOIS could be written (the pace was taken by other lines). */
  timedOutUnsent: number;
  /** Requests refused at once because too many nicks were waiting for a WHOIS. */
  queueFull: number;
}

export interface WhoisOptions {
  /** How long a request waits for its answer, from when it is asked (queued or written). */
  timeoutMs: number;
  fold: () => CaseFold;
  /** Called when a WHOIS is queued or room is made for one: the pump writes it when the pace allows. */
  wake: () => void;
  /** Nicks that may wait for a WHOIS to be written (default 10). */
  maxQueued?: number;
  /** WHOIS written and not answered yet, at most (default 10). */
  maxInFlight?: number;
  counters?: WhoisCounters;
}

export const DEFAULT_WHOIS_QUEUED = 10;
export const DEFAULT_WHOIS_IN_FLIGHT = 10;
/** How many recently asked nicks are remembered to order the queue. */
const RECENT = 64;

interface Waiter {
  resolve(outcome: WhoisOutcome): void;
  timer: NodeJS.Timeout;
}

/** One WHOIS: queued, then written, then answered; the requests that wait for it. */
interface Batch {
  nick: string;
  waiters: Set<Waiter>;
  written: boolean;
}

export class WhoisRequests {
  /** Queued WHOIS by folded nick (one per nick), in the order queued. */
  private readonly queue = new Map<string, Batch>();
  /** Written WHOIS not answered yet, per folded nick, in the order written (kept when all their requests timed out). */
  private readonly written = new Map<string, Batch[]>();
  private inFlight = 0;
  /** When each recently asked nick was last written (a sequence number), oldest first. */
  private readonly lastAsked = new Map<string, number>();
  private seq = 0;
  private readonly listener = (e: WhoisReply) => this.onReply(e);
  private readonly maxQueued: number;
  private readonly maxInFlight: number;
  private readonly counters: WhoisCounters;
  private closed = false;

  constructor(
    private readonly client: WhoisClient,
    private readonly options: WhoisOptions,
  ) {
    this.maxQueued = Math.max(1, options.maxQueued ?? DEFAULT_WHOIS_QUEUED);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_WHOIS_IN_FLIGHT);
    this.counters = options.counters ?? { sent: 0, timedOutUnsent: 0, queueFull: 0 };
    client.on('whois', this.listener);
  }

  /**
   * Queues a WHOIS of `nick` (or joins the one queued); resolves with its answer, or timeout, busy or closed
   * (never rejects).
   */
  ask(nick: string): Promise<WhoisOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'closed' });
    const key = this.options.fold()(nick);
    let batch = this.queue.get(key);
    if (!batch) {
      if (this.queue.size >= this.maxQueued) {
        this.counters.queueFull += 1;
        return Promise.resolve({ kind: 'busy' });
      }
      batch = { nick, waiters: new Set(), written: false };
      this.queue.set(key, batch);
    }
    const joined = batch;
    const promise = new Promise<WhoisOutcome>((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          joined.waiters.delete(waiter);
          if (!joined.written) {
            this.counters.timedOutUnsent += 1;
            // Nobody waits for it any more: never written.
            if (!joined.waiters.size && this.queue.get(key) === joined) this.queue.delete(key);
          }
          resolve({ kind: 'timeout' });
        }, this.options.timeoutMs),
      };
      joined.waiters.add(waiter);
    });
    this.options.wake();
    return promise;
  }

  /** Whether a queued WHOIS may be written now (the pace permitting). */
  sendable(): boolean {
    return !this.closed && this.queue.size > 0 && this.inFlight < this.maxInFlight;
  }

  /** Nicks whose WHOIS waits to be written (tests, diagnosis). */
  queued(): number {
    return this.queue.size;
  }

  /** Writes the queued WHOIS of the nick asked least recently (the pump calls it with a token of its pace). */
  sendNext(): boolean {
    if (!this.sendable()) return false;
    let pick: [string, Batch] | undefined;
    let pickAt = Infinity;
    for (const entry of this.queue) {
      const at = this.lastAsked.get(entry[0]) ?? -1;
      if (at < pickAt) {
        pick = entry;
        pickAt = at;
      }
    }
    const [key, batch] = pick!;
    this.queue.delete(key);
    batch.written = true;
    const list = this.written.get(key);
    if (list) list.push(batch);
    else this.written.set(key, [batch]);
    this.inFlight += 1;
    this.lastAsked.delete(key);
    this.lastAsked.set(key, this.seq++);
    if (this.lastAsked.size > RECENT) this.lastAsked.delete(this.lastAsked.keys().next().value!);
    this.counters.sent += 1;
    this.client.raw(`WHOIS ${batch.nick}`);
    return true;
  }

  private onReply(e: WhoisReply): void {
    if (!e?.nick) return;
    const key = this.options.fold()(e.nick);
    const list = this.written.get(key);
    const batch = list?.shift();
    if (!batch) return;
    if (!list!.length) this.written.delete(key);
    this.inFlight -= 1;
    const outcome: WhoisOutcome = e.error
      ? { kind: 'not-found' }
      : { kind: 'answer', nick: e.nick, ident: e.ident, hostname: e.hostname, account: e.account || undefined };
    for (const waiter of batch.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(outcome);
    }
    batch.waiters.clear();
    // Room for another WHOIS in flight.
    if (this.queue.size) this.options.wake();
  }

  /** Requests waiting for an answer, queued or written (tests, diagnosis). */
  waiting(): number {
    let n = 0;
    for (const batch of this.queue.values()) n += batch.waiters.size;
    for (const list of this.written.values()) for (const batch of list) n += batch.waiters.size;
    return n;
  }

  /** The connection is gone or rekick stops: every waiting request resolves `closed`; the listener is removed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.removeListener('whois', this.listener);
    const batches = [...this.queue.values(), ...[...this.written.values()].flat()];
    for (const batch of batches) {
      for (const waiter of batch.waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve({ kind: 'closed' });
      }
      batch.waiters.clear();
    }
    this.queue.clear();
    this.written.clear();
    this.inFlight = 0;
  }
}
