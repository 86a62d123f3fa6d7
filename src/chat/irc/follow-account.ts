/**
 * Lines for a job started by a private message follow the services account that started it, not the nick: each
 * batch of lines goes to the nick that holds the account when it is sent (from the account map, else a WHOIS of
 * the nick the job was started from), and is dropped (logged at debug) when no nick is seen holding it: whoever
 * took the nick since does not get them. Lines for one account keep their order; one WHOIS serves every line
 * waiting when it is asked.
 */
import type { Logger } from 'pino';
import type { OutgoingMessage } from '../chat-adapter';

export interface FollowAccountOptions {
  /** The nick that holds `account` now (preferring `nick`), or undefined when none does or it cannot be told. */
  resolve(account: string, nick: string): Promise<string | undefined> | string | undefined;
  deliver(nick: string, message: OutgoingMessage): void;
  /** Called with the number of lines dropped because no nick holds their account. */
  dropped?(lines: number): void;
  log: Logger;
}

interface Queue {
  account: string;
  nick: string;
  lines: OutgoingMessage[];
}

export class FollowAccount {
  private readonly queues = new Map<string, Queue>();
  private idle: Promise<void> = Promise.resolve();
  private running = 0;
  private idleResolve?: () => void;

  constructor(private readonly options: FollowAccountOptions) {}

  send(account: string, nick: string, message: OutgoingMessage): void {
    const key = `${account.toLowerCase()}\u0000${nick}`;
    const queue = this.queues.get(key);
    if (queue) {
      queue.lines.push(message);
      return;
    }
    const q: Queue = { account, nick, lines: [message] };
    this.queues.set(key, q);
    if (this.running++ === 0) this.idle = new Promise((r) => (this.idleResolve = r));
    void this.run(key, q);
  }

  /** Resolves when no line waits for its nick (tests, stop). */
  settled(): Promise<void> {
    return this.idle;
  }

  private async run(key: string, q: Queue): Promise<void> {
    try {
      while (q.lines.length) {
        // The lines waiting now go where the answer says; lines that come meanwhile wait for the next answer.
        const batch = q.lines.splice(0);
        let nick: string | undefined;
        try {
          nick = await this.options.resolve(q.account, q.nick);
        } catch (err) {
          this.options.log.warn({ err, account: q.account }, 'could not tell which nick holds an account; its private lines are dropped');
        }
        if (!nick) {
          this.options.dropped?.(batch.length);
          this.options.log.debug({ account: q.account, nick: q.nick, lines: batch.length }, 'no nick holds the account that started the job; its private lines are dropped (the channels still get the job\'s lines)');
          continue;
        }
        for (const m of batch) this.options.deliver(nick, m);
      }
    } finally {
      this.queues.delete(key);
      if (--this.running === 0) this.idleResolve?.();
    }
  }
}
