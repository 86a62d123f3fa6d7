/**
 * Replies that grow with the fleet: !hosts and !queue answer in full when the list fits the room, are summarised
 * in a channel (counts, the status page, how to get the pages) and paged in a private message; the lab console
 * prints whole lists; !rolling status lines are cut to a bounded length.
 */
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import type { RollingApi } from '../../commands/types';
import type { ChatAdapter } from '../../src/chat/chat-adapter';
import { createConsoleAdapter } from '../../src/chat/console';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import type { Identity } from '../../src/model';
import { FakeChat } from '../fakes/fake-chat';
import { FakeExecutor, anonymous } from '../fakes/fake-executor';
import { testConfig } from '../fakes/test-config';
import { until } from '../support/until';

const HOSTS = Array.from({ length: 60 }, (_, i) => ({ name: `build-${String(i + 1).padStart(2, '0')}`, arch: 'x86_64', kind: 'baremetal', groups: ['all'] }));
const now = () => new Date('2026-12-01T12:00:00Z');

async function rig(options: { statusUrl?: string; rolling?: RollingApi; adapter?: ChatAdapter } = {}) {
  const executor = await FakeExecutor.create(testConfig({}, HOSTS));
  const chat = options.adapter ?? new FakeChat('irc');
  const router = createRouter({
    executor,
    commands: commandRegistry,
    roles: createRoles(executor.config.roles),
    log: pino({ level: 'silent' }),
    audit: () => undefined,
    adapters: [chat],
    statusUrl: () => options.statusUrl,
    rolling: options.rolling,
    now,
  });
  await chat.start((m) => router.handle(m));
  return { executor, chat, router };
}

async function lines(chat: FakeChat, user: Identity, text: string, room = '#builders'): Promise<string[]> {
  const before = chat.sent.length;
  await chat.say(user, text, room);
  return chat.sent.slice(before).flatMap((s) => s.message.text.split('\n'));
}

describe('!queue of 30 hosts', () => {
  it('a channel gets one line: how many, the oldest by name, the status page and how to get the pages', async () => {
    const r = await rig({ statusUrl: 'https://rekick.example.org/' });
    for (const [i, h] of HOSTS.slice(0, 30).entries()) await r.executor.seed(h.name, 'awaiting-approval', { updatedAt: new Date(Date.parse('2026-12-01T09:00:00Z') + i * 60_000).toISOString() });
    const got = await lines(r.chat as FakeChat, anonymous, '!queue');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^30 hosts waiting for approval, oldest first: build-01 \(\S+\), .* and 22 more; the status page has them all: https:\/\/rekick\.example\.org\/; !queue --page 1 in a private message to rekick lists them page by page$/);
  });

  it('a private message gets pages of 15, the last without "for more"', async () => {
    const r = await rig();
    for (const [i, h] of HOSTS.slice(0, 30).entries()) await r.executor.seed(h.name, 'awaiting-approval', { updatedAt: new Date(Date.parse('2026-12-01T09:00:00Z') + i * 60_000).toISOString() });
    const first = await lines(r.chat as FakeChat, anonymous, 'queue', 'guest42');
    expect(first).toHaveLength(16);
    expect(first[0]).toMatch(/^1\. build-01 waiting/);
    expect(first[15]).toBe('page 1/2 of 30 hosts waiting; !queue --page 2 for more');
    const second = await lines(r.chat as FakeChat, anonymous, 'queue --page=2', 'guest42');
    expect(second[0]).toMatch(/^16\. build-16 waiting/);
    expect(second[15]).toBe('page 2/2 of 30 hosts waiting');
  });

  it('ten waiting fit a channel: listed as before', async () => {
    const r = await rig();
    for (const h of HOSTS.slice(0, 10)) await r.executor.seed(h.name, 'awaiting-approval');
    expect(await lines(r.chat as FakeChat, anonymous, '!queue')).toHaveLength(10);
  });
});

describe('!hosts of 60 hosts', () => {
  it('--page in a channel gets the summary (pages are for private messages); a bad page number is refused', async () => {
    const r = await rig();
    const got = await lines(r.chat as FakeChat, anonymous, '!hosts --page 3');
    expect(got).toEqual([expect.stringMatching(/^60 hosts: Koji 60 not known yet; none in a job; never reinstalled by rekick: 60; !hosts --page 1 in a private message/)]);
    expect(await lines(r.chat as FakeChat, anonymous, '!hosts --page 0')).toEqual([expect.stringMatching(/^!hosts: --page takes a page number from 1, got "0" — usage: !hosts \[group:NAME\] \[--page N\]/)]);
    expect(await lines(r.chat as FakeChat, anonymous, '!hosts group:all --page 2', 'guest42')).toEqual([
      ...HOSTS.slice(15, 30).map((h) => expect.stringMatching(new RegExp(`^${h.name} `))),
      'page 2/4 of 60 hosts; !hosts group:all --page 3 for more',
    ]);
  });

  it('the lab console prints every host', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const printed: string[] = [];
    output.on('data', (d: Buffer) => printed.push(...d.toString().split('\n').filter(Boolean)));
    const console = createConsoleAdapter({ input, output, display: 'me' });
    await rig({ adapter: console });
    input.write('!hosts\n');
    await until(() => printed.length >= 60, 'the 60 host lines', 10_000);
    expect(printed.map((l) => l.split(' ')[0])).toEqual(HOSTS.map((h) => h.name));
    await console.stop();
  });
});

describe('!rolling status', () => {
  it('cuts a line that grows with the fleet, and points at the status page', async () => {
    const inFlight = HOSTS.map((h) => `${h.name} [4/8] reinstall`).join(', ');
    const rolling = { status: () => ['rolling run r1 (the fleet, 60 at a time): running', `  in flight: ${inFlight}`] } as unknown as RollingApi;
    const r = await rig({ rolling, statusUrl: 'https://rekick.example.org/' });
    const got = await lines(r.chat as FakeChat, anonymous, '!rolling status');
    expect(got).toHaveLength(3);
    expect(got[1]!.length).toBe(400);
    expect(got[1]!.endsWith('…')).toBe(true);
    expect(got[2]).toBe('  (cut short; the status page has the whole run: https://rekick.example.org/)');
  });
});
