/** !retry HOST: resume a failed job from the step that failed. */
import { currentStep, stepTag } from '../src/present/step-tag';
import { hostIndexOf } from '../src/hosts/host-index';
import { resolveOneHost } from '../src/hosts/host-words';
import { parseOneHost, type HostArg } from './cancel';
import { defineCommand } from './types';

export const retry = defineCommand<HostArg>({
  name: 'retry',
  usage: 'retry HOST',
  summary: 'resume a host’s failed job from the step that failed',
  role: 'operator',
  parse: parseOneHost,
  async run(ctx) {
    const host = resolveOneHost(hostIndexOf(ctx.executor), ctx.args.host, 'nothing retried');
    const job = await ctx.executor.retry(host.name, ctx.request);
    const step = currentStep(job);
    await ctx.reply(`${host.name}: retrying job ${job.id} from ${stepTag(step, job.current)}`);
  },
});
