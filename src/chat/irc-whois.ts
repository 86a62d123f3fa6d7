/**
 * WHOIS requests on one connection with one shared `whois` listener (irc-framework's `whois(nick, cb)` adds a
 * listener per call and removes it only when an answer comes: every timed-out WHOIS leaked one). The server
 * answers WHOIS in the order asked, so an answer goes to the oldest request for that nick; an answer that comes
 * after its request timed out is recognised as late and dropped, never taken for a newer request's answer.
 */
import type { CaseFold } from './irc-casefold';

export type WhoisOutcome =
  | { kind: 'answer'; nick: string; ident?: string; hostname?: string; account?: string }
  | { kind: 'not-found' }
  | { kind: 'timeout' }
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

interface Pending {
  resolve(outcome: WhoisOutcome): void;
  timer: NodeJS.Timeout;
}

export class WhoisRequests {
  private readonly pending = new Map<string, Pending[]>();
  /** Answers still owed to requests that timed out, per nick: dropped when they come. */
  private readonly late = new Map<string, number>();
  private readonly listener = (e: WhoisReply) => this.onReply(e);
  private closed = false;

  constructor(
    private readonly client: WhoisClient,
    private readonly timeoutMs: number,
    private readonly fold: () => CaseFold,
  ) {
    client.on('whois', this.listener);
  }

  /** Asks the server now; resolves with its answer, or timeout, or closed (never rejects). */
  ask(nick: string): Promise<WhoisOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'closed' });
    const key = this.fold()(nick);
    return new Promise((resolve) => {
      const entry: Pending = {
        resolve,
        timer: setTimeout(() => {
          const list = this.pending.get(key);
          const i = list?.indexOf(entry) ?? -1;
          if (i < 0) return;
          list!.splice(i, 1);
          if (!list!.length) this.pending.delete(key);
          this.late.set(key, (this.late.get(key) ?? 0) + 1);
          resolve({ kind: 'timeout' });
        }, this.timeoutMs),
      };
      const list = this.pending.get(key);
      if (list) list.push(entry);
      else this.pending.set(key, [entry]);
      this.client.raw(`WHOIS ${nick}`);
    });
  }

  private onReply(e: WhoisReply): void {
    if (!e?.nick) return;
    const key = this.fold()(e.nick);
    const late = this.late.get(key) ?? 0;
    if (late > 0) {
      if (late === 1) this.late.delete(key);
      else this.late.set(key, late - 1);
      return;
    }
    const list = this.pending.get(key);
    const entry = list?.shift();
    if (!entry) return;
    if (!list!.length) this.pending.delete(key);
    clearTimeout(entry.timer);
    if (e.error) entry.resolve({ kind: 'not-found' });
    else entry.resolve({ kind: 'answer', nick: e.nick, ident: e.ident, hostname: e.hostname, account: e.account || undefined });
  }

  /** Requests waiting for an answer (tests, diagnosis). */
  waiting(): number {
    let n = 0;
    for (const list of this.pending.values()) n += list.length;
    return n;
  }

  /** The connection is gone or rekick stops: every waiting request resolves `closed`; the listener is removed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.removeListener('whois', this.listener);
    for (const list of this.pending.values()) {
      for (const entry of list) {
        clearTimeout(entry.timer);
        entry.resolve({ kind: 'closed' });
      }
    }
    this.pending.clear();
    this.late.clear();
  }
}
