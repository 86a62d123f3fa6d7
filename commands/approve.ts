/** !approve HOST... | all [--override]: enable the approved hosts in Koji. */
import { UserError } from '../src/errors';
import { approveAll } from './approve-all';
import { clickedJob } from './button';
import { hostIndexOf } from '../src/hosts/host-index';
import { resolveHostWords } from '../src/hosts/host-words';
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
    if (ctx.args.hosts === 'all') return approveAll(ctx);
    const hosts = resolveHostWords(hostIndexOf(ctx.executor), ctx.args.hosts, 'nothing approved');
    // A Slack button approves the job its message was posted for, never a later job of the host.
    const jobIds: Record<string, string> = {};
    for (const h of hosts) {
      const id = clickedJob(ctx.message, h.name, 'approve', 'nothing approved');
      if (id) jobIds[h.name] = id;
    }
    // The executor refuses the whole line when one host is not waiting; each approval is announced by the notifier.
    await ctx.executor.approve(
      hosts.map((h) => h.name),
      { ...ctx.request, override: override || undefined, jobIds: ctx.message.button ? jobIds : undefined },
    );
  },
});
