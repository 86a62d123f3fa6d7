/** !cancel HOST: stop the job at the next safe point; the host stays disabled, with a comment. */
import { UserError } from '../src/errors';
import { hostIndexOf } from '../src/hosts/host-index';
import { resolveOneHost } from '../src/hosts/host-words';
import { defineCommand } from './types';

export interface HostArg {
  host: string;
}

export function parseOneHost(words: string[]): HostArg {
  if (words.length !== 1) throw new UserError(words.length ? 'name exactly one host' : 'name the host', 'E_USAGE');
  return { host: words[0]! };
}

export const cancel = defineCommand<HostArg>({
  name: 'cancel',
  usage: 'cancel HOST',
  summary: 'stop a host’s job at the next safe point; the host stays disabled in Koji',
  role: 'operator',
  parse: parseOneHost,
  async run(ctx) {
    const host = resolveOneHost(hostIndexOf(ctx.executor), ctx.args.host, 'nothing cancelled');
    const job = await ctx.executor.cancel(host.name, ctx.request);
    // A job that stopped at once was announced by the notifier (cancelled); a running one stops at a safe point.
    if (job.state !== 'cancelled') {
      await ctx.reply(`${host.name}: cancel requested; job ${job.id} stops at the next safe point and the host stays disabled in Koji`);
    }
  },
});
