/**
 * Nobody floods the server through rekick's WHOIS (issue 20): on a server without account-tag, the WHOIS that
 * binds a line is written within rekick's pace (the LinePacer that paces its own lines), with a fake client and
 * simulated time. 200 lines from an outsider make rekick write no more than its pace allows (WHOIS and replies
 * together); an approver amid a flood from several nicks is still confirmed; lines that arrive while their nick's
 * WHOIS is queued share it, but a WHOIS written before a line arrived is never taken for it; a request that times
 * out before its WHOIS could be written does not make the next real answer be dropped as late; urgent lines go
 * before WHOIS, WHOIS before replies; past the queue's bound a line is unconfirmed at once; no more WHOIS are
 * unanswered at once than the in-flight bound.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatMessage } from '../../src/chat/chat-adapter';
import type { IrcAdapter, IrcAdapterOptions } from '../../src/chat/irc/adapter';
import { FakeIrcClient, fakeIrcAdapter } from '../fakes/fake-irc-client';

const CHANNEL = '#builders';
const NIRIK = { nick: 'nirik', ident: 'nirik', hostname: 'fedora/staff/nirik', account: 'nirik' };
const outsider = (nick: string) => ({ nick, ident: nick, hostname: `${nick}.example` });

interface Rig {
  fake: FakeIrcClient;
  adapter: IrcAdapter;
  got: ChatMessage[];
  /** Every line rekick wrote to the server, with the (simulated) time. */
  writes: Array<{ at: number; line: string }>;
  whoisAsked(): string[];
}

let current: Rig | undefined;

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(async () => {
  if (current) {
    const stopping = current.adapter.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    await stopping;
    current = undefined;
  }
  vi.useRealTimers();
});

/** Lets `ms` of simulated time pass, in steps, so that timers set meanwhile fire in order. */
async function pass(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 50) await vi.advanceTimersByTimeAsync(Math.min(50, ms - t));
}

async function setup(options: Partial<IrcAdapterOptions> & { reply?: boolean } = {}): Promise<Rig> {
  const { reply = false, ...adapterOptions } = options;
  const fake = new FakeIrcClient();
  const writes: Rig['writes'] = [];
  const raw = fake.raw.bind(fake);
  fake.raw = (line: string) => {
    writes.push({ at: Date.now(), line });
    raw(line);
  };
  const adapter = fakeIrcAdapter(fake, { channels: [CHANNEL], ...adapterOptions });
  const got: ChatMessage[] = [];
  const started = adapter.start(async (m) => {
    got.push(m);
    // Each line answered, as a router without a rate limit would: the worst case for output.
    if (reply) await adapter.send(m.origin, { kind: 'reply', text: `no, ${m.user.display}` });
  });
  await pass(100);
  await started;
  current = { fake, adapter, got, writes, whoisAsked: () => writes.filter((w) => w.line.startsWith('WHOIS ')).map((w) => w.line) };
  return current;
}

/**
 * The first window of writes that breaks a token bucket of `burst` lines at once then `perSecond` a second (any
 * n consecutive writes span at least (n - burst) / perSecond seconds), or undefined.
 */
function paceBreach(writes: Rig['writes'], burst: number, perSecond: number): string | undefined {
  for (let i = 0; i < writes.length; i++) {
    for (let j = i; j < writes.length; j++) {
      const n = j - i + 1;
      const allowed = burst + (perSecond * (writes[j]!.at - writes[i]!.at)) / 1000;
      if (n > allowed + 1e-9) return `${n} lines written in ${writes[j]!.at - writes[i]!.at} ms (pace: ${burst} at once, ${perSecond}/s): ${writes.slice(i, j + 1).map((w) => w.line).join(' | ')}`;
    }
  }
  return undefined;
}

describe('WHOIS within rekick\'s pace (no account-tag)', () => {
  it('200 private lines from an outsider without an account: rekick writes no more than its pace (WHOIS and replies together)', async () => {
    const rig = await setup({ reply: true });
    rig.fake.arrive(outsider('guest'));
    for (let i = 0; i < 200; i++) {
      rig.fake.say('guest', 'rekick', `status buildarm-${i}`);
      await vi.advanceTimersByTimeAsync(10);
    }
    await pass(30_000);
    expect(rig.got).toHaveLength(200);
    // Never bound to an account (the outsider has none), whether its WHOIS answered or not.
    expect(rig.got.every((m) => m.user.id === undefined)).toBe(true);
    expect(paceBreach(rig.writes, 4, 1)).toBeUndefined();
    // A handful of WHOIS, each shared by the lines that arrived while it waited; not one per line.
    expect(rig.whoisAsked().length).toBeLessThanOrEqual(10);
    expect(rig.adapter.stats().whoisSent).toBe(rig.whoisAsked().length);
  });

  it("an approver's line amid a flood from six other nicks is confirmed: its WHOIS goes ahead of the flooders' within the timeout", async () => {
    const rig = await setup({ reply: true });
    const flooders = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'];
    for (const f of flooders) rig.fake.arrive(outsider(f));
    rig.fake.arrive(NIRIK);
    for (let i = 0; i < 300; i++) {
      rig.fake.say(flooders[i % flooders.length]!, 'rekick', `status buildarm-${i}`);
      if (i === 150) rig.fake.say('nirik', 'rekick', 'approve all');
      await vi.advanceTimersByTimeAsync(10);
    }
    await pass(30_000);
    expect(rig.got).toHaveLength(301);
    const approver = rig.got.find((m) => m.user.display === 'nirik')!;
    expect(approver.user).toEqual({ source: 'irc', id: 'nirik', display: 'nirik' });
    expect(approver.origin).toEqual({ adapter: 'irc', room: 'nirik', private: true, account: 'nirik' });
    expect(rig.got.filter((m) => m.user.display !== 'nirik').every((m) => m.user.id === undefined)).toBe(true);
    expect(paceBreach(rig.writes, 4, 1)).toBeUndefined();
  });

  it("lines that arrive while their nick's WHOIS is queued share it: one WHOIS, each line bound", async () => {
    const rig = await setup({ pace: { burst: 1, perSecond: 1 } });
    rig.fake.whoisMode = 'manual';
    rig.fake.arrive(NIRIK);
    rig.fake.say('nirik', 'rekick', 'status buildarm-01');
    // The pace's one token went to the first line's WHOIS; the next lines wait for one WHOIS, queued.
    for (let i = 2; i <= 5; i++) rig.fake.say('nirik', 'rekick', `status buildarm-0${i}`);
    expect(rig.whoisAsked()).toEqual(['WHOIS nirik']);
    rig.fake.answerAllWhois();
    await pass(1100);
    expect(rig.whoisAsked()).toEqual(['WHOIS nirik', 'WHOIS nirik']);
    rig.fake.answerAllWhois();
    await pass(100);
    expect(rig.got.map((m) => [m.text, m.user.id])).toEqual([1, 2, 3, 4, 5].map((i) => [`!status buildarm-0${i}`, 'nirik']));
  });

  it('a WHOIS written before a line arrived is not taken for that line (the user logged out in between)', async () => {
    const rig = await setup();
    rig.fake.whoisMode = 'manual';
    rig.fake.arrive(NIRIK);
    rig.fake.say('nirik', 'rekick', 'status');
    expect(rig.whoisAsked()).toEqual(['WHOIS nirik']);
    // nirik logs out (the server has no account-notify: rekick is not told) and sends another line, which arrives
    // before the answer to the first WHOIS, given as the server read it: still logged in.
    rig.fake.account('nirik', undefined);
    rig.fake.say('nirik', 'rekick', 'approve all');
    rig.fake.emit('whois', { nick: 'nirik', ident: NIRIK.ident, hostname: NIRIK.hostname, account: 'nirik' });
    rig.fake.heldWhois.shift();
    await pass(100);
    // The second line has its own WHOIS, written after it arrived, and the answer to that one binds it.
    expect(rig.whoisAsked()).toEqual(['WHOIS nirik', 'WHOIS nirik']);
    expect(rig.got.map((m) => m.text)).toEqual(['!status']);
    rig.fake.answerAllWhois();
    await pass(100);
    expect(rig.got.map((m) => [m.text, m.user.id])).toEqual([
      ['!status', 'nirik'],
      ['!approve all', undefined],
    ]);
  });

  it('a request that timed out before its WHOIS could be written does not make the next real answer be dropped as late', async () => {
    // One token, then one every 5 s: a WHOIS queued right after the token went waits longer than its 1 s timeout.
    const rig = await setup({ pace: { burst: 1, perSecond: 0.2 }, whoisTimeoutMs: 1000 });
    rig.fake.whoisMode = 'manual';
    rig.fake.arrive(NIRIK);
    await rig.adapter.send({ adapter: 'irc', room: CHANNEL }, { kind: 'reply', text: 'the token goes to this line' });
    rig.fake.say('nirik', 'rekick', 'status');
    await pass(1500);
    expect(rig.got.map((m) => m.user.unconfirmed)).toEqual(['WHOIS did not answer in time']);
    // Never written: there is no answer to wait for.
    expect(rig.whoisAsked()).toEqual([]);
    expect(rig.adapter.stats().whoisTimedOutUnsent).toBe(1);
    await pass(5000);
    rig.fake.say('nirik', 'rekick', 'approve all');
    expect(rig.whoisAsked()).toEqual(['WHOIS nirik']);
    rig.fake.answerAllWhois();
    await pass(100);
    expect(rig.got.map((m) => [m.text, m.user.id])).toEqual([
      ['!status', undefined],
      ['!approve all', 'nirik'],
    ]);
  });

  it('urgent lines go before a waiting WHOIS, and the WHOIS before replies', async () => {
    const rig = await setup({ pace: { burst: 1, perSecond: 1 } });
    rig.fake.whoisMode = 'manual';
    rig.fake.arrive(NIRIK);
    await rig.adapter.send({ adapter: 'irc', room: CHANNEL }, { kind: 'reply', text: 'first' });
    await rig.adapter.send({ adapter: 'irc', room: CHANNEL }, { kind: 'reply', text: 'a reply' });
    rig.fake.say('nirik', 'rekick', 'approve all');
    await rig.adapter.send({ adapter: 'irc', room: CHANNEL }, { kind: 'notice', text: 'an urgent notice' });
    await pass(3500);
    expect(rig.writes.map((w) => w.line)).toEqual(['PRIVMSG #builders :first', 'PRIVMSG #builders :an urgent notice', 'WHOIS nirik', 'PRIVMSG #builders :a reply']);
  });

  it('past the bound on nicks waiting for a WHOIS, a line is unconfirmed at once (and counted)', async () => {
    const rig = await setup({ pace: { burst: 1, perSecond: 0.1 }, whoisLimits: { queuedNicks: 3 } });
    rig.fake.whoisMode = 'silent';
    for (let i = 0; i < 10; i++) {
      rig.fake.arrive(outsider(`g${i}`));
      rig.fake.say(`g${i}`, 'rekick', 'status');
    }
    // g0's WHOIS is written (the one token); g1..g3 are queued; g4..g9 are refused at once.
    expect(rig.whoisAsked()).toEqual(['WHOIS g0']);
    expect(rig.adapter.stats().whoisQueueFull).toBe(6);
    await pass(6000);
    expect(rig.got.map((m) => [m.user.display, m.user.unconfirmed])).toEqual([
      ...[0, 1, 2, 3].map((i) => [`g${i}`, 'WHOIS did not answer in time']),
      ...[4, 5, 6, 7, 8, 9].map((i) => [`g${i}`, 'too many WHOIS waiting (rekick is being flooded)']),
    ]);
  });

  it('no more WHOIS unanswered at once than the in-flight bound: the next goes when an answer comes', async () => {
    const rig = await setup({ pace: { burst: 100, perSecond: 100 }, whoisLimits: { inFlight: 2 } });
    rig.fake.whoisMode = 'manual';
    for (let i = 0; i < 4; i++) {
      rig.fake.arrive(outsider(`g${i}`));
      rig.fake.say(`g${i}`, 'rekick', 'status');
    }
    expect(rig.whoisAsked()).toEqual(['WHOIS g0', 'WHOIS g1']);
    rig.fake.answerWhois('g0');
    expect(rig.whoisAsked()).toEqual(['WHOIS g0', 'WHOIS g1', 'WHOIS g2']);
    rig.fake.answerAllWhois();
    rig.fake.answerAllWhois();
    await pass(100);
    expect(rig.whoisAsked()).toHaveLength(4);
    expect(rig.got.map((m) => [m.user.display, m.user.id, m.user.unconfirmed])).toEqual([0, 1, 2, 3].map((i) => [`g${i}`, undefined, undefined]));
  });
});
