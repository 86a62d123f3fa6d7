/** !approve HOST... | all [--override]: enable the approved hosts in Koji. */
import { UserError } from '../src/errors';
import { resolveHostWords } from './host-args';
import { splitFlags } from './flags';
import { defineCommand } from './types';

export interface ApproveArgs {
  hosts: string[] | 'all';
  override: boolean;
}

export const approve = defineCommand<ApproveArgs>({
  name: 'approve',
  usage: 'approve HOST... | all [--override]',
  summary: 'enable hosts waiting for approval in Koji (--override: also hosts that were disabled before rekick)',
  role: 'approver',
  parse(words) {
    const { positional, flags } = splitFlags(words, { override: false });
    if (!positional.length) throw new UserError('name at least one host, or all', 'E_USAGE');
    const all = positional.some((w) => w.toLowerCase() === 'all');
    if (all && positional.length > 1) throw new UserError('either all or host names, not both', 'E_USAGE');
    return { hosts: all ? 'all' : [...new Set(positional)], override: flags.override === true };
  },
  async run(ctx) {
    const { override } = ctx.args;
    if (ctx.args.hosts === 'all') {
      const waiting = ctx.executor.queue();
      const approved = await ctx.executor.approve('all', { ...ctx.request, override: override || undefined });
      const skipped = waiting.filter((j) => !approved.some((a) => a.id === j.id)).map((j) => j.host);
      if (skipped.length) {
        await ctx.reply(
          `${approved.length ? `approved ${approved.length}; ` : 'nothing approved; '}not approved (disabled in Koji before rekick touched them): ${skipped.join(', ')} — !approve HOST --override enables them anyway`,
        );
      }
      return;
    }
    const hosts = resolveHostWords(ctx.executor, ctx.args.hosts, 'nothing approved');
    // The executor refuses the whole line when one host is not waiting; each approval is announced by the notifier.
    await ctx.executor.approve(
      hosts.map((h) => h.name),
      { ...ctx.request, override: override || undefined },
    );
  },
});
