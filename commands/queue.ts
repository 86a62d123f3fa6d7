/**
 * !queue [--page N]: the re-enables waiting for approval, oldest first, with how long each has waited. A queue
 * longer than the room takes is summarised in a channel and paged in a private message (src/present/list-reply.ts).
 */
import { UserError } from '../src/errors';
import { renderQueue } from '../src/present/fleet-lines';
import { DEFAULT_LIST_ROOM, listReply, parsePage } from '../src/present/list-reply';
import { summariseQueue } from '../src/present/list-summary';
import { splitFlags } from './flags';
import { defineCommand } from './types';

export const queue = defineCommand<{ page?: number }>({
  name: 'queue',
  usage: 'queue [--page N]',
  summary: 'hosts waiting for approval, oldest first, with how long each has waited',
  role: 'anyone',
  parse(words) {
    const { positional, flags } = splitFlags(words, { page: true });
    if (positional.length) throw new UserError('!queue takes no arguments but --page N', 'E_USAGE');
    return { page: parsePage(flags.page) };
  },
  async run(ctx) {
    const now = ctx.now();
    const waiting = ctx.executor.queue();
    await ctx.reply(
      listReply({
        lines: renderQueue(waiting, now),
        noun: 'hosts waiting',
        summary: () => summariseQueue(waiting, now),
        command: 'queue',
        page: ctx.args.page,
        room: ctx.listRoom ?? DEFAULT_LIST_ROOM,
      }),
    );
  },
});
