/**
 * !hosts [group:NAME] [--page N]: each host with its Koji state (when known), current job and last reinstall. A
 * list longer than the room takes is summarised in a channel and paged in a private message (src/present/list-reply.ts).
 */
import { UserError } from '../src/errors';
import { renderHosts, type HostRow } from '../src/present/fleet-lines';
import { DEFAULT_LIST_ROOM, listReply, parsePage } from '../src/present/list-reply';
import { summariseHosts } from '../src/present/list-summary';
import { splitFlags } from './flags';
import { hostIndexOf } from '../src/hosts/host-index';
import { checkHostWord } from '../src/hosts/host-words';
import { defineCommand } from './types';

export interface HostsArgs {
  group?: string;
  page?: number;
}

export const hosts = defineCommand<HostsArgs>({
  name: 'hosts',
  usage: 'hosts [group:NAME] [--page N]',
  summary: 'each host: Koji state, current job, when rekick last reinstalled it (a long list: counts in a channel, pages in a private message)',
  role: 'anyone',
  parse(words) {
    const { positional, flags } = splitFlags(words, { page: true });
    if (positional.length > 1) throw new UserError('name at most one group', 'E_USAGE');
    const [w] = positional;
    if (w !== undefined && !w.startsWith('group:')) throw new UserError('expected group:NAME', 'E_USAGE');
    return { group: w?.slice('group:'.length), page: parsePage(flags.page) };
  },
  async run(ctx) {
    const { executor } = ctx;
    if (ctx.args.group !== undefined) checkHostWord(hostIndexOf(executor), `group:${ctx.args.group}`, 'nothing to show');
    const selected = executor.config.hosts.filter((h) => ctx.args.group === undefined || h.groups.includes(ctx.args.group));
    const rows: HostRow[] = selected.map((h) => {
      const record = executor.store.getHost(h.name);
      return {
        name: h.name,
        arch: h.arch,
        kind: h.kind,
        koji: ctx.hostsInfo?.(h.name),
        job: executor.store.activeJob(h.name),
        lastReinstalledAt: record?.lastReinstalledAt,
        lastOutcome: record?.lastOutcome,
      };
    });
    const scope = ctx.args.group !== undefined ? `group:${ctx.args.group}` : undefined;
    await ctx.reply(
      listReply({
        lines: renderHosts(rows, ctx.now()),
        noun: 'hosts',
        summary: () => summariseHosts(rows, scope),
        command: scope ? `hosts ${scope}` : 'hosts',
        page: ctx.args.page,
        room: ctx.listRoom ?? DEFAULT_LIST_ROOM,
      }),
    );
  },
});
