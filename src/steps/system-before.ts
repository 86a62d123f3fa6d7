/**
 * What identifies the installed system (host keys, /etc/machine-id), recorded once per job at the start of
 * stage-installer before anything is armed, for wait-ssh's proof (reinstall-proof.ts). A virt guest that is down
 * gets a short try, then only known_hosts is recorded; its job never fails for that.
 */
import { abortReason } from '../errors';
import { readMachineId } from '../ssh/machine-id';
import type { SystemBefore } from '../model';
import type { StepContext } from './types';

/** The longest a virt guest's login may take before its old system is recorded from known_hosts alone. */
const GUEST_LOGIN_MS = 10_000;

interface Seen {
  hostKey?: string;
  machineId?: string;
}

/**
 * Records the old system once per job and saves it at once: a re-run of stage-installer (a retry, a resume after a
 * restart) keeps the record of the old system. A bare-metal host is logged in to (the driver's commands need that
 * login anyway, and reuse it); a virt guest may be down already: a short, bounded try, else known_hosts alone.
 */
export async function recordSystemBefore(ctx: StepContext): Promise<void> {
  if (ctx.job.before) return;
  const known = (await ctx.connector.knownHostKeys?.(ctx.target)) ?? [];
  const seen = ctx.host.kind === 'virt' ? await readGuest(ctx) : await readHost(ctx);
  const before: SystemBefore = {
    at: new Date().toISOString(),
    hostKeys: [...new Set([seen?.hostKey, ...known].filter((k): k is string => Boolean(k)))],
    from: seen ? 'host' : 'known_hosts',
  };
  if (seen?.machineId) before.machineId = seen.machineId;
  ctx.job.before = before;
  await ctx.save();
}

/** The host as it runs now (strict host key: it has not been reinstalled). The login is kept for the driver. */
async function readHost(ctx: StepContext): Promise<Seen> {
  const remote = await ctx.connector.connect(ctx.target, { hostKeyMode: 'strict', signal: ctx.signal });
  try {
    const machineId = await readMachineId(remote, ctx.signal);
    await remote.close({ keep: true });
    return { hostKey: remote.hostKey, machineId };
  } catch (err) {
    await remote.close();
    throw err;
  }
}

/** A guest that answers within a short bound, else undefined (recorded from known_hosts only). */
async function readGuest(ctx: StepContext): Promise<Seen | undefined> {
  const bound = Math.max(1000, Math.min(GUEST_LOGIN_MS, Math.floor(ctx.timeoutMs / 4)));
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(bound)]);
  try {
    const state = await ctx.connector.probe(ctx.target, { hostKeyMode: 'strict', signal, timeoutMs: bound, depth: 'tcp' });
    if (state === 'down') {
      ctx.progress(`${ctx.host.name} is down: its old system is recorded from known_hosts only`);
      return undefined;
    }
    const remote = await ctx.connector.connect(ctx.target, { hostKeyMode: 'strict', signal });
    try {
      return { hostKey: remote.hostKey, machineId: await readMachineId(remote, signal) };
    } finally {
      await remote.close(); // the guest is destroyed next: nothing to hand on
    }
  } catch (err) {
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    ctx.progress(`could not read ${ctx.host.name} before its reinstall (${(err as Error).message}): its old system is recorded from known_hosts only`);
    return undefined;
  }
}
