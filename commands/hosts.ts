/** !hosts [group:NAME]: each host with its Koji state (when known), current job and last reinstall. */
import { UserError } from '../src/errors';
import { renderHosts, type HostRow } from '../src/chat/render';
import { checkHostWord } from './host-args';
import { defineCommand } from './types';

export interface HostsArgs {
  group?: string;
}

export const hosts = defineCommand<HostsArgs>({
  name: 'hosts',
  usage: 'hosts [group:NAME]',
  summary: 'each host: Koji state, current job, when rekick last reinstalled it',
  role: 'anyone',
  parse(words) {
    if (words.length > 1) throw new UserError('name at most one group', 'E_USAGE');
    const [w] = words;
    if (w !== undefined && !w.startsWith('group:')) throw new UserError('expected group:NAME', 'E_USAGE');
    return { group: w?.slice('group:'.length) };
  },
  async run(ctx) {
    const { executor } = ctx;
    if (ctx.args.group !== undefined) checkHostWord(executor, `group:${ctx.args.group}`, 'nothing to show');
    const selected = executor.config.hosts.filter((h) => ctx.args.group === undefined || h.groups.includes(ctx.args.group));
    const rows: HostRow[] = selected.map((h) => ({
      name: h.name,
      arch: h.arch,
      kind: h.kind,
      koji: ctx.hostsInfo?.(h.name),
      job: executor.store.activeJob(h.name),
      lastReinstalledAt: executor.store.getHost(h.name)?.lastReinstalledAt,
    }));
    await ctx.reply(renderHosts(rows, ctx.now()).join('\n'));
  },
});
