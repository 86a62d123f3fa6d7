/**
 * !reinstall HOST... | group:NAME [--force-drain] [--reason TEXT]: queue a reinstall of each host, all or nothing. A
 * virthost takes its guests with it: each gets a job of its own, disabled and drained before the virthost is touched.
 */
import { UserError } from '../src/errors';
import { hostIndexOf } from '../src/hosts/host-index';
import { resolveHostWords } from '../src/hosts/host-words';
import { splitFlags } from './flags';
import { defineCommand } from './types';

export interface ReinstallArgs {
  hosts: string[];
  forceDrain: boolean;
  reason?: string;
}

export const reinstall = defineCommand<ReinstallArgs>({
  name: 'reinstall',
  usage: 'reinstall HOST... | group:NAME [--force-drain] [--reason "TEXT"]',
  summary: "queue a reinstall of each host (all or nothing; a virthost's guests are drained first and reinstalled after it); progress follows here",
  role: 'operator',
  parse(words) {
    const { positional, flags } = splitFlags(words, { 'force-drain': false, reason: true });
    if (!positional.length) throw new UserError('name at least one host or group:NAME', 'E_USAGE');
    const reason = typeof flags.reason === 'string' ? flags.reason : undefined;
    if (reason && reason.length > 200) throw new UserError('the reason is longer than 200 characters', 'E_USAGE');
    return { hosts: [...new Set(positional)], forceDrain: flags['force-drain'] === true, reason };
  },
  async run(ctx) {
    const hosts = resolveHostWords(hostIndexOf(ctx.executor), ctx.args.hosts, 'nothing queued');
    // The executor checks again (busy hosts, virthost conflicts) and refuses the whole request with one line.
    await ctx.executor.reinstall({
      ...ctx.request,
      hosts: hosts.map((h) => h.name),
      forceDrain: ctx.args.forceDrain || undefined,
      reason: ctx.args.reason,
    });
    // Each queued host is announced by the notifier (job-queued), here and in the notice rooms.
  },
});
