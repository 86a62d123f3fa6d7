/**
 * Chat to action: an operator on a real IRC network (inspircd + atheme on loopback) types `!reinstall HOST`;
 * the figure is the time from the line's arrival at rekick (the IRC adapter handing it on, after irc-framework
 * parsed it) to the Koji hub stand-in receiving `disableHost` for that host (`calls[].at`). Each run is then
 * cancelled and the host enabled again on the hub, so a few hosts serve many runs, one run at a time.
 */
import pino from 'pino';
import { connectIrcUser, startIrcNetwork } from '../test/integration/helpers/ircd';
import type { ChatAdapter, ChatMessage } from '../src/chat/chat-adapter';
import { createIrcAdapter } from '../src/chat/irc/adapter';
import { loadConfig } from '../src/config/load';
import { createRekick } from '../src/main';
import type { Identity } from '../src/model';
import { startKojiPeer } from './koji-peer';
import { withDefaults } from './options';
import { note, report } from './report';
import { describeSamples, percentile } from './stats';

export interface ChatBenchOptions {
  runs: number;
  hosts: number;
}

const CHANNEL = '#builders';
const OPERATOR = { account: 'kevin', password: 'kevin-bench-pw' };
const BOT = { account: 'rekick', password: 'rekick-bench-pw' };

export async function benchChatToDisable(options: Partial<ChatBenchOptions> = {}): Promise<void> {
  const o = withDefaults({ runs: 200, hosts: 20 }, options);
  // The operator's class allows a burst (the bench sends one line, then waits): fakelag would only add the
  // server's own pacing to a figure that starts at rekick anyway. rekick's own output is paced by its adapter.
  const net = await startIrcNetwork({ accounts: [BOT, OPERATOR], clientClass: { threshold: 100, commandrate: 10_000 } });
  const peer = await startKojiPeer({
    hosts: o.hosts,
    extra: {
      irc: { host: net.host, port: net.port, nick: 'rekick', sasl: BOT, channels: [CHANNEL] },
      roles: { operator: [`irc:${OPERATOR.account}`], approver: [] },
      // The operator types two commands a run, 400 in a minute or two: the figure is rekick's latency, not its
      // flood control (an operator's default is 60 a minute), so the limit is set out of the way.
      chat: { rateLimit: { privilegedPerMinute: 100_000, privilegedBurst: 1_000 } },
    },
  });
  const log = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'error' });
  const config = loadConfig(peer.configPath, { env: process.env });
  const arrivals = new Map<string, number>();
  const irc = stampArrivals(createIrcAdapter({ config: config.irc!, log: log.child({ component: 'irc' }) }), (m, at) => {
    const host = /^!?reinstall (\S+)/.exec(m.text)?.[1];
    if (host) arrivals.set(host, at);
  });
  const rekick = await createRekick({ config, log, adapters: [irc], chat: { irc: false, slack: false } });
  const operator = await connectIrcUser(net, { nick: 'kevin', sasl: OPERATOR, channels: [CHANNEL] });
  const by: Identity = { source: 'irc', id: OPERATOR.account, display: 'kevin' };
  const fromArrival: number[] = [];
  const fromSend: number[] = [];
  try {
    await rekick.start();
    await waitUntil(() => irc.isReady(), 20_000, 'the IRC adapter to log in and join');
    note(`chat-to-disable: inspircd + atheme on ${net.host}:${net.port}, rekick's IRC adapter and an operator logged in with SASL; ${o.runs} runs over ${o.hosts} hosts`);
    for (let i = 0; i < o.runs; i++) {
      const host = peer.hosts[i % peer.hosts.length]!;
      arrivals.delete(host);
      const mark = peer.hub.calls.length;
      const sent = Date.now();
      operator.say(CHANNEL, `!reinstall ${host}`);
      const call = await waitFor(
        () => peer.hub.calls.slice(mark).find((c) => c.method === 'disableHost' && c.params[0] === host),
        10_000,
        `disableHost(${host}); hub calls since: ${peer.hub.calls.slice(mark).map((c) => c.method).join(' ')}; channel: ${operator.seen.slice(-5).map((l) => l.message).join(' | ')}`,
      );
      const arrived = arrivals.get(host);
      if (arrived === undefined) throw new Error(`disableHost(${host}) came before rekick saw the line: the bench is measuring something else`);
      fromArrival.push(call.at.getTime() - arrived);
      fromSend.push(call.at.getTime() - sent);
      // Put the host back as it was for the next run: cancel the job, enable the host on the hub.
      await waitUntil(() => rekick.store.activeJob(host)?.kojiComment !== undefined, 10_000, `${host}'s disable step to finish`);
      await rekick.executor.cancel(host, { by, origin: { adapter: 'irc', room: CHANNEL } });
      await waitUntil(() => !rekick.store.activeJob(host), 20_000, `${host}'s job to end after the cancel`);
      peer.hub.setHost(host, { enabled: true, comment: null });
    }
  } finally {
    await operator.quit().catch(() => undefined);
    await rekick.stop('bench done');
    await peer.stop();
    await net.stop();
  }
  note(`chat-to-disable: from arrival at rekick (ms): ${describeSamples(fromArrival)}`);
  note(`chat-to-disable: from the operator's send, through inspircd (ms): ${describeSamples(fromSend)}`);
  report('chat-to-disable-p50', percentile(fromArrival, 50), 'ms', '< 50 ms p99');
  report('chat-to-disable-p99', percentile(fromArrival, 99), 'ms', '< 50 ms');
}

/** The adapter, telling `onArrival` the moment each message is handed to rekick (before rekick handles it). */
function stampArrivals(adapter: ChatAdapter, onArrival: (m: ChatMessage, at: number) => void): ChatAdapter {
  return {
    name: adapter.name,
    start: (onMessage) =>
      adapter.start((m) => {
        onArrival(m, Date.now());
        return onMessage(m);
      }),
    stop: (reason) => adapter.stop(reason),
    send: (target, message) => adapter.send(target, message),
    noticeRooms: () => adapter.noticeRooms(),
    isReady: () => adapter.isReady(),
  };
}

async function waitFor<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = find();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const waitUntil = (cond: () => boolean, timeoutMs: number, what: string) => waitFor(() => (cond() ? true : undefined), timeoutMs, what);
