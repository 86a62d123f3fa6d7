/**
 * !rolling start [FRACTION] [group:NAME] [--continuous] | pause | resume | stop | status: control and show the
 * rolling run. The scheduler is an optional RollingApi; without one the command refuses plainly.
 */
import { UserError } from '../src/errors';
import { hostIndexOf } from '../src/hosts/host-index';
import { checkHostWord } from '../src/hosts/host-words';
import { splitFlags } from './flags';
import { defineCommand, type Role, type RollingApi } from './types';

export type RollingArgs =
  | { action: 'start'; fraction?: number; group?: string; continuous: boolean }
  | { action: 'pause' | 'resume' | 'stop' | 'status' };

const ACTIONS = ['start', 'pause', 'resume', 'stop', 'status'] as const;

/** A status line's length at most (its host lists grow with the fleet); the status page shows the whole run. */
const STATUS_LINE_MAX = 400;

function statusReply(lines: string[], statusUrl: string | undefined): string {
  let cut = false;
  const shown = lines.map((l) => {
    if (l.length <= STATUS_LINE_MAX) return l;
    cut = true;
    return `${l.slice(0, STATUS_LINE_MAX - 1)}…`;
  });
  if (cut) shown.push(statusUrl ? `  (cut short; the status page has the whole run: ${statusUrl})` : '  (cut short; the status page has the whole run)');
  return shown.join('\n');
}

/** `0.25`, `.25`, `25%`: a share of the fleet in (0, 1]. */
export function parseFraction(word: string): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(%?)$/.exec(word);
  const n = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(n > 0 && n <= 1)) throw new UserError(`expected a fraction like 0.25 or 25%, got "${word.slice(0, 32)}"`, 'E_USAGE');
  return n;
}

function needRolling(rolling: RollingApi | undefined): RollingApi {
  if (!rolling) throw new UserError('rolling reinstalls are not available in this rekick (no rolling scheduler is running)', 'E_NO_ROLLING');
  return rolling;
}

export const rolling = defineCommand<RollingArgs>({
  name: 'rolling',
  usage: 'rolling start [FRACTION] [group:NAME] [--continuous] | pause | resume | stop | status',
  summary: 'start, pause, resume, stop or show the rolling reinstall of the fleet or a group',
  role: 'operator',
  roleFor(words): Role {
    return words.length === 0 || words[0]?.toLowerCase() === 'status' ? 'anyone' : 'operator';
  },
  parse(words) {
    const action = (words[0] ?? 'status').toLowerCase();
    if (!(ACTIONS as readonly string[]).includes(action)) throw new UserError(`unknown rolling action "${words[0]!.slice(0, 32)}"`, 'E_USAGE');
    const rest = words.slice(1);
    if (action !== 'start') {
      if (rest.length) throw new UserError(`!rolling ${action} takes no arguments`, 'E_USAGE');
      return { action: action as 'pause' | 'resume' | 'stop' | 'status' };
    }
    const { positional, flags } = splitFlags(rest, { continuous: false });
    let fraction: number | undefined;
    let group: string | undefined;
    for (const w of positional) {
      if (w.startsWith('group:')) {
        if (group !== undefined) throw new UserError('name at most one group', 'E_USAGE');
        group = w.slice('group:'.length);
      } else {
        if (fraction !== undefined) throw new UserError(`unexpected "${w.slice(0, 32)}"`, 'E_USAGE');
        fraction = parseFraction(w);
      }
    }
    return { action: 'start', fraction, group, continuous: flags.continuous === true };
  },
  async run(ctx) {
    const api = needRolling(ctx.rolling);
    const args = ctx.args;
    let out: string | void;
    switch (args.action) {
      case 'status': {
        const lines = api.status();
        out = lines.length ? statusReply(lines, ctx.listRoom?.statusUrl) : 'no rolling run: !rolling start [FRACTION] [group:NAME] starts one';
        break;
      }
      case 'start':
        if (args.group !== undefined) checkHostWord(hostIndexOf(ctx.executor), `group:${args.group}`, 'no run started');
        out = await api.start({ ...ctx.request, fraction: args.fraction, group: args.group, continuous: args.continuous });
        break;
      case 'pause':
        out = await api.pause(ctx.request);
        break;
      case 'resume':
        out = await api.resume(ctx.request);
        break;
      case 'stop':
        out = await api.stop(ctx.request);
        break;
    }
    if (out) await ctx.reply(out);
  },
});
