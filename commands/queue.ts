/** !queue: the re-enables waiting for approval, oldest first, with how long each has waited. */
import { UserError } from '../src/errors';
import { renderQueue } from '../src/chat/render';
import { defineCommand } from './types';

export const queue = defineCommand<Record<string, never>>({
  name: 'queue',
  usage: 'queue',
  summary: 'hosts waiting for approval, oldest first, with how long each has waited',
  role: 'anyone',
  parse(words) {
    if (words.length) throw new UserError('!queue takes no arguments', 'E_USAGE');
    return {};
  },
  async run(ctx) {
    await ctx.reply(renderQueue(ctx.executor.queue(), ctx.now()).join('\n'));
  },
});
