/**
 * Nobody floods rekick or, through it, the channel: the real router, commands, notifier and IRC adapter (its
 * outbox and pacer) with a fake IRC client and a 500-host fleet. A `!hosts` from a user without a role is a
 * summary in the channel (the list is paged in a private message), a failure right after it reaches the channel
 * within a few lines, and the outbox stays small; 1,000 lines from one user get their burst of answers and one
 * notice, nothing else, while an operator keeps working.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import type { IrcAdapter } from '../../src/chat/irc/adapter';
import { createNotifier, type Notifier } from '../../src/chat/notifier';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import type { AuditEntry, ExecutorEvent } from '../../src/model';
import { FakeExecutor } from '../fakes/fake-executor';
import { FakeIrcClient, fakeIrcAdapter } from '../fakes/fake-irc-client';
import { makeJob } from '../fakes/jobs';
import { testConfig } from '../fakes/test-config';
import { until } from '../support/until';

const CHANNEL = '#builders';
const STATUS_URL = 'http://rekick.example.org:8080/';
const HOSTS = Array.from({ length: 500 }, (_, i) => ({
  name: `build-${String(i + 1).padStart(3, '0')}`,
  arch: 'x86_64',
  kind: 'baremetal',
  groups: i < 3 ? ['few'] : ['many'],
}));
const log = pino({ level: 'silent' });
const FROZEN = new Date('2026-12-01T12:00:00Z');

interface Rig {
  fake: FakeIrcClient;
  irc: IrcAdapter;
  executor: FakeExecutor;
  notifier: Notifier;
  audit: AuditEntry[];
  limited: number;
  /** The most lines the outbox held at once after any send. */
  maxQueued: number;
}

let current: Rig | undefined;
afterEach(async () => {
  current?.notifier.stop();
  await current?.irc.stop();
  current = undefined;
});

async function setup(): Promise<Rig> {
  const fake = new FakeIrcClient();
  // The server tags each line of a logged-in user with the account: no WHOIS here.
  fake.caps = ['account-tag'];
  const executor = await FakeExecutor.create(testConfig({}, HOSTS));
  // Fast enough for a test, slow enough that lines wait in the outbox.
  const irc = fakeIrcAdapter(fake, { channels: [CHANNEL], pace: { burst: 4, perSecond: 50 } });
  const rig: Rig = { fake, irc, executor, notifier: undefined as unknown as Notifier, audit: [], limited: 0, maxQueued: 0 };
  // Watch the outbox's size after every send.
  const send = irc.send.bind(irc);
  irc.send = async (target, message) => {
    await send(target, message);
    rig.maxQueued = Math.max(rig.maxQueued, irc.stats().queued);
  };
  const router = createRouter({
    executor,
    commands: commandRegistry,
    roles: createRoles(executor.config.roles),
    log,
    audit: (e) => {
      rig.audit.push(e);
    },
    adapters: [irc],
    hostsInfo: (h) => (h.endsWith('7') ? { enabled: false, comment: 'rekick: reinstalling' } : { enabled: true, comment: null }),
    statusUrl: () => STATUS_URL,
    rateLimit: { perMinute: 10, burst: 5, privilegedPerMinute: 60, privilegedBurst: 20 },
    onRateLimited: () => {
      rig.limited += 1;
    },
    // A frozen clock: no bucket refills while the test runs, however slow the machine.
    now: () => FROZEN,
  });
  rig.notifier = createNotifier({ executor, adapters: [irc], log });
  await irc.start((m) => router.handle(m));
  current = rig;
  return rig;
}

/** A line from `nick` (logged in as `account`, if given), who connects first if the server does not know them. */
function line(rig: Rig, nick: string, target: string, message: string, account?: string): void {
  if (!rig.fake.users.has(nick.toLowerCase())) rig.fake.arrive({ nick, ident: nick, hostname: `${nick}.example`, account });
  rig.fake.say(nick, target, message);
}

const failure = (host: string): ExecutorEvent => ({
  type: 'step-failed',
  job: makeJob({ host, origin: { adapter: 'irc', room: CHANNEL }, steps: makeJob({ host }).steps.map((s, i) => ({ ...s, status: i === 0 ? 'succeeded' : s.status })) }),
  step: 'stage-installer',
  index: 2,
  error: { code: 'E_REMOTE_COMMAND', message: 'grub2-mkconfig exited 1' },
  outputTail: ['grub2-mkconfig: error: out of space'],
});

const drained = (rig: Rig, what: string) => until(() => rig.irc.stats().queued === 0, what, 30_000);

describe('a 500-host !hosts in an IRC channel from a user without a role', () => {
  it('is a bounded summary with the status page; a failure emitted right after reaches the channel within a few lines', async () => {
    const rig = await setup();
    line(rig, 'guest42', CHANNEL, '!hosts');
    await until(() => rig.fake.linesTo(CHANNEL).length > 0, 'the reply to !hosts', 10_000);
    rig.executor.emit(failure('build-042'));
    await until(() => rig.fake.linesTo(CHANNEL).some((l) => l.startsWith('build-042 [3/8] stage-installer failed')), 'the failure line', 30_000);
    await drained(rig, 'the outbox to drain');

    const said = rig.fake.linesTo(CHANNEL);
    const failedAt = said.findIndex((l) => l.startsWith('build-042 [3/8] stage-installer failed'));
    // Ordering, not timing: the failure came within a few lines of the reply's start.
    expect(failedAt, said.slice(0, 12).join('\n')).toBeLessThanOrEqual(3);
    // The reply: counts, the status page and how to get the list; a handful of lines, not 500.
    const reply = said.filter((l) => !l.startsWith('build-042'));
    expect(reply.length).toBeLessThanOrEqual(3);
    const text = reply.join(' ');
    expect(text).toMatch(/^500 hosts: Koji 450 enabled, 50 disabled by rekick; none in a job/);
    expect(text).toContain(STATUS_URL);
    expect(text).toContain('!hosts --page 1 in a private message to rekick');
    expect(rig.maxQueued).toBeLessThanOrEqual(10);
  });

  it('in a private message: pages of 15 lines with what comes next; a page past the last is refused', async () => {
    const rig = await setup();
    line(rig, 'guest42', 'rekick', 'hosts --page 2');
    await until(() => rig.fake.linesTo('guest42').some((l) => l.startsWith('page 2/34')), 'page 2', 10_000);
    const page = rig.fake.linesTo('guest42');
    expect(page.slice(0, 15).map((l) => l.split(' ')[0])).toEqual(HOSTS.slice(15, 30).map((h) => h.name));
    expect(page[15]).toBe('page 2/34 of 500 hosts; !hosts --page 3 for more');
    line(rig, 'guest42', 'rekick', 'hosts --page 35');
    await until(() => rig.fake.linesTo('guest42').length > 16, 'the refusal', 10_000);
    expect(rig.fake.linesTo('guest42')[16]).toMatch(/there are 34 pages of hosts; no page 35/);
  });

  it('a group with few hosts is listed in the channel as before', async () => {
    const rig = await setup();
    line(rig, 'guest42', CHANNEL, '!hosts group:few');
    await until(() => rig.fake.linesTo(CHANNEL).length === 3, 'three host lines', 10_000);
    expect(rig.fake.linesTo(CHANNEL).map((l) => l.split(' ')[0])).toEqual(['build-001', 'build-002', 'build-003']);
  });
});

describe('a flood of commands from one IRC user', () => {
  it('1,000 lines: the burst is answered, then one notice and nothing else; not audited one by one; an operator keeps working', async () => {
    const rig = await setup();
    for (let i = 0; i < 500; i++) line(rig, 'flooder', CHANNEL, '!help');
    line(rig, 'kevin', CHANNEL, '!reinstall build-001', 'kevin');
    for (let i = 0; i < 500; i++) line(rig, 'flooder', CHANNEL, '!help');
    line(rig, 'kevin', CHANNEL, '!whoami', 'kevin');
    await until(() => rig.fake.linesTo(CHANNEL).some((l) => /irc:kevin/.test(l)), "the operator's !whoami answer", 30_000);
    await drained(rig, 'the outbox to drain');

    const said = rig.fake.linesTo(CHANNEL);
    const helps = said.filter((l) => l.startsWith('commands: '));
    const notices = said.filter((l) => l.startsWith('slow down'));
    expect(helps).toHaveLength(5);
    expect(notices).toEqual([expect.stringMatching(/^slow down, flooder: at most 10 commands a minute; rekick ignores your commands for \d+s$/)]);
    expect(rig.limited).toBe(995);
    // The operator's command ran and was answered, the flood notwithstanding.
    expect(rig.executor.calls.filter((c) => c.method === 'reinstall')).toHaveLength(1);
    expect(said.some((l) => l.startsWith('build-001 queued for reinstall by kevin'))).toBe(true);
    // Nothing of the flood is audited (!help only reads); of the operator's two commands, the one that acts is.
    expect(rig.audit.filter((e) => e.who.display === 'flooder')).toEqual([]);
    expect(rig.audit.filter((e) => e.who.id === 'kevin').map((e) => e.action)).toEqual(['!reinstall']);
    expect(said.length).toBeLessThanOrEqual(5 + 1 + 2);
    expect(rig.maxQueued).toBeLessThanOrEqual(10);
  });
});
