/**
 * `!approve all`: approves the jobs waiting whose ready line its sender could have seen (handed to a chat before the
 * line arrived), and says exactly which hosts it approved and which it left waiting and why.
 */
import { UserError } from '../src/errors';
import { age } from '../src/present/duration';
import { waitingSince } from '../src/present/job-lines';
import type { Job } from '../src/model';
import type { CommandContext } from './types';

export async function approveAll(ctx: CommandContext<{ override: boolean }>): Promise<void> {
  const { executor } = ctx;
  const override = ctx.args.override;
  const arrived = ctx.message.receivedAt ?? ctx.now();
  const waiting = executor.queue();
  if (!waiting.length) throw new UserError('no host is waiting for approval', 'E_NOTHING_WAITING');
  const unseen: Job[] = [];
  const cancelling: Job[] = [];
  const needsOverride: Job[] = [];
  const eligible: Job[] = [];
  for (const job of waiting) {
    if (ctx.seenBefore && !ctx.seenBefore(job.id, arrived)) unseen.push(job);
    else if (job.cancel) cancelling.push(job);
    else if (!override && job.kojiBefore && !job.kojiBefore.enabled) needsOverride.push(job);
    else eligible.push(job);
  }
  const left: string[] = [];
  if (unseen.length) {
    const names = unseen.map((j) => j.host);
    left.push(
      `left waiting (ready after your command could have seen it): ${unseen.map((j) => `${j.host} (ready ${age(waitingSince(j), ctx.now())} ago)`).join(', ')} — !approve ${names.join(' ')}`,
    );
  }
  if (cancelling.length) left.push(`not approved (being cancelled): ${cancelling.map((j) => j.host).join(', ')}`);
  if (needsOverride.length) {
    left.push(`not approved (disabled in Koji before rekick touched them): ${needsOverride.map((j) => j.host).join(', ')} — !approve HOST --override enables them anyway`);
  }
  if (!eligible.length && unseen.length) throw new UserError(`nothing approved; ${left.join('; ')}`, 'E_NOT_ANNOUNCED');
  // Exactly the jobs counted above: the executor refuses a host whose waiting job is another one by now.
  const approved = eligible.length
    ? await executor.approve(
        eligible.map((j) => j.host),
        { ...ctx.request, override: override || undefined, jobIds: Object.fromEntries(eligible.map((j) => [j.host, j.id])) },
      )
    : [];
  const head = approved.length ? `approved ${approved.length}: ${approved.map((j) => j.host).join(', ')}` : 'nothing approved';
  await ctx.reply([head, ...left].join('; '));
}
