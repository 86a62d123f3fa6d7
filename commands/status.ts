/** !status [HOST]: running and recent jobs, or one host's latest job with each step's state, time and progress. */
import { UserError } from '../src/errors';
import { renderJob, renderStatus } from '../src/present/job-lines';
import { hostIndexOf } from '../src/hosts/host-index';
import { resolveOneHost } from '../src/hosts/host-words';
import { defineCommand } from './types';

export interface StatusArgs {
  host?: string;
}

const RECENT = 10;

export const status = defineCommand<StatusArgs>({
  name: 'status',
  usage: 'status [HOST]',
  summary: 'running and recent jobs, or one host’s job step by step',
  role: 'anyone',
  parse(words) {
    if (words.length > 1) throw new UserError('name at most one host', 'E_USAGE');
    return { host: words[0] };
  },
  async run(ctx) {
    const now = ctx.now();
    if (!ctx.args.host) {
      await ctx.reply(renderStatus(ctx.executor.jobs({ limit: RECENT }), now).join('\n'));
      return;
    }
    const host = resolveOneHost(hostIndexOf(ctx.executor), ctx.args.host, 'nothing to show');
    const [job] = ctx.executor.jobs({ host: host.name, limit: 1 });
    if (!job) {
      await ctx.reply(`${host.name} has no job yet: !reinstall ${host.name} starts one`);
      return;
    }
    await ctx.reply(renderJob(job, now).join('\n'));
  },
});
