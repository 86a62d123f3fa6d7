/** !deny HOST [REASON]: leave the host disabled, with the reason as its Koji comment. */
import { UserError } from '../src/errors';
import { clickedJob } from './button';
import { hostIndexOf } from '../src/hosts/host-index';
import { resolveOneHost } from '../src/hosts/host-words';
import { defineCommand } from './types';

export interface DenyArgs {
  host: string;
  reason?: string;
}

export const deny = defineCommand<DenyArgs>({
  name: 'deny',
  usage: 'deny HOST [REASON]',
  summary: 'leave a host waiting for approval disabled, with the reason as its Koji comment',
  role: 'approver',
  parse(words) {
    const [host, ...rest] = words;
    if (!host) throw new UserError('name the host to deny', 'E_USAGE');
    const reason = rest.join(' ').trim() || undefined;
    if (reason && reason.length > 200) throw new UserError('the reason is longer than 200 characters', 'E_USAGE');
    return { host, reason };
  },
  async run(ctx) {
    const host = resolveOneHost(hostIndexOf(ctx.executor), ctx.args.host, 'nothing denied');
    // A Slack button denies the job its message was posted for, never a later job of the host.
    const jobId = clickedJob(ctx.message, host.name, 'deny', 'nothing denied');
    await ctx.executor.deny(host.name, { ...ctx.request, reason: ctx.args.reason, jobId });
  },
});
