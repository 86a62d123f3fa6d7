/**
 * What the IRC adapter tests share: one inspircd + atheme network per test file (with the bot's services
 * account), the bot built against it, cleanups run in reverse, a polling `until`, and progress lines as the
 * notifier hands them to the adapter.
 */
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { createIrcAdapter, type IrcAdapter } from '../../../src/chat/irc/adapter';
import type { OutgoingMessage } from '../../../src/chat/chat-adapter';
import type { ExecutorEvent, Job, StepName } from '../../../src/model';
import { makeJob } from '../../fakes/jobs';
import { startIrcNetwork, type IrcNetwork } from './ircd';
import { until as waitUntil } from '../../support/until';

export const CHANNEL = '#builders';
const BOT_ACCOUNT = { account: 'rekick', password: 'bot-pw-2' };

export interface IrcRig {
  /** The network (set once beforeAll has run). */
  readonly net: IrcNetwork;
  /** Run at the end of the file, last registered first. */
  cleanups: Array<() => Promise<unknown>>;
  makeBot(port: number, nick: string, extra?: Partial<Parameters<typeof createIrcAdapter>[0]>): IrcAdapter;
}

export function useIrcNetwork(): IrcRig {
  let net: IrcNetwork | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    net = await startIrcNetwork({ accounts: [BOT_ACCOUNT] });
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await net?.stop();
  });
  return {
    get net() {
      return net!;
    },
    cleanups,
    makeBot: (port, nick, extra = {}) =>
      createIrcAdapter({
        config: { host: net!.host, port, tls: false, nick, sasl: BOT_ACCOUNT, channels: [CHANNEL], rejectUnauthorized: true },
        log: pino({ level: 'silent' }),
        reconnect: { minMs: 200, maxMs: 1000 },
        ...extra,
      }),
  };
}

export const until = (check: () => boolean, what: string, timeoutMs = 10_000) => waitUntil(check, what, timeoutMs);

export function channelJob(host: string): Job {
  return makeJob({ host, id: `job-${host}`, origin: { adapter: 'irc', room: CHANNEL } });
}

export function progress(host: string, step: StepName, index: number, done: boolean): OutgoingMessage {
  const event: ExecutorEvent = done
    ? { type: 'step-succeeded', job: channelJob(host), step, index, durationMs: 1500 }
    : { type: 'step-started', job: channelJob(host), step, index };
  return { kind: 'progress', event, text: `${host} [${index + 1}/8] ${step} ${done ? 'done in 1.5s' : 'started'}` };
}
