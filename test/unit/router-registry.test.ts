/**
 * The router runs the commands it is handed (the registry injected by the composition), nothing else: lookup,
 * the usage line of a refusal and the did-you-mean all come from the registry.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { defineCommand, type CommandSpec } from '../../commands/types';
import { UserError } from '../../src/errors';
import { createRoles } from '../../src/chat/roles';
import { createRouter, type CommandRegistry } from '../../src/chat/router';
import type { AuditEntry } from '../../src/model';
import { FakeExecutor, kevin } from '../fakes/fake-executor';

const ping = defineCommand<{ loud: boolean }>({
  name: 'ping',
  usage: 'ping [--loud]',
  summary: 'answers',
  role: 'anyone',
  parse(words) {
    if (words.some((w) => w !== '--loud')) throw new UserError('only --loud', 'E_USAGE');
    return { loud: words.includes('--loud') };
  },
  async run(ctx) {
    await ctx.reply(ctx.args.loud ? 'PONG' : 'pong');
  },
});

function registry(all: readonly CommandSpec[]): CommandRegistry {
  return {
    all,
    find: (name) => all.find((c) => c.name === name.toLowerCase()),
    usage: (spec) => `USAGE(${spec.name})`,
    suggest: (typed) => (typed.startsWith('p') ? ' — SUGGEST(ping)' : ''),
  };
}

async function say(text: string): Promise<{ replies: string[]; audit: AuditEntry[] }> {
  const executor = await FakeExecutor.create();
  const audit: AuditEntry[] = [];
  const router = createRouter({ executor, commands: registry([ping]), roles: createRoles(executor.config.roles), log: pino({ level: 'silent' }), audit: (e) => void audit.push(e) });
  const replies: string[] = [];
  await router.handle({ origin: { adapter: 'irc', room: '#builders' }, user: kevin, text }, async (t) => void replies.push(t));
  return { replies, audit };
}

describe('the router runs the commands it is handed', () => {
  it('finds a command in the registry, with or without the `!`', async () => {
    expect((await say('!ping')).replies).toEqual(['pong']);
    expect((await say('ping --loud')).replies).toEqual(['PONG']);
  });

  it("a command the registry does not have is unknown, with the registry's suggestion", async () => {
    const { replies, audit } = await say('!pnig');
    expect(replies).toEqual(['unknown command !pnig — SUGGEST(ping) (!help lists the commands)']);
    expect(audit).toEqual([expect.objectContaining({ action: 'chat', outcome: 'refused' })]);
    expect((await say('!reinstall buildarm-01')).replies).toEqual(['unknown command !reinstall (!help lists the commands)']);
  });

  it("a parse refusal ends with the registry's usage line", async () => {
    expect((await say('!ping --soft')).replies).toEqual(['!ping: only --loud — USAGE(ping)']);
  });
});
