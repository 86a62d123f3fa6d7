/**
 * The proof, checked in wait-ssh, that the host came back as a new system: a changed host key or /etc/machine-id
 * against what stage-installer recorded (system-before.ts). Without it the job fails (E_NOT_REINSTALLED). A virt
 * guest with nothing recorded is taken on its recreated domain (`basis`), failing only on the same machine-id.
 */
import { StepError } from '../errors';
import { readMachineId } from '../ssh/machine-id';
import type { RemoteHost } from '../ssh/types';
import type { ReinstallProof } from '../model';
import type { StepContext } from './types';

/**
 * Proof that the host came back from step 4 as a new system, or E_NOT_REINSTALLED: a job without it is never offered
 * for approval, since the old system booting again (the installer entry not taken, a bad kernel URL, `GRUB_DEFAULT`
 * not `saved`) would otherwise pass post-install and verify like a new one. A site whose kickstart restores the old
 * host keys still gets a new machine-id. A virt guest with nothing recorded to compare (down before its reinstall
 * and not in known_hosts, or its machine-id unreadable) is taken on what this job did to it: its domain was undefined
 * and created anew by virt-install (`basis`); it fails only when the same machine-id is seen again.
 */
export async function proveNewSystem(ctx: StepContext, remote: RemoteHost): Promise<ReinstallProof> {
  const { job, host } = ctx;
  const before = job.before;
  // A job from before rekick recorded the old system: a key accepted in this wait-ssh is what it has of it.
  const beforeKeys = before?.hostKeys.length ? before.hostKeys : job.hostKey?.previous ? [job.hostKey.previous] : [];
  const afterKey = remote.hostKey;
  const afterId = await readMachineId(remote, ctx.signal);
  const keyCompared = beforeKeys.length > 0 && afterKey !== undefined;
  const sameKey = keyCompared && beforeKeys.includes(afterKey);
  const idCompared = before?.machineId !== undefined && afterId !== undefined;
  const sameId = idCompared && afterId === before.machineId;
  const changed: ReinstallProof['changed'] = [];
  if (keyCompared && !sameKey) changed.push('host key');
  if (idCompared && !sameId) changed.push('machine-id');
  const proof: ReinstallProof = {
    at: new Date().toISOString(),
    hostKey: { before: sameKey ? afterKey : beforeKeys[0], after: afterKey },
    machineId: { before: before?.machineId, after: afterId },
    changed,
  };
  if (changed.length) return proof;
  if (host.kind === 'virt' && !sameId) return { ...proof, basis: 'virt-install' };
  throw new StepError('E_NOT_REINSTALLED', notReinstalled(ctx, { sameKey, sameId, machineIdBefore: before?.machineId, machineIdNow: afterId }), {
    retryable: false,
  });
}

function notReinstalled(
  ctx: StepContext,
  seen: { sameKey: boolean; sameId: boolean; machineIdBefore?: string; machineIdNow?: string },
): string {
  const name = ctx.host.name;
  const check = ctx.host.kind === 'virt' ? 'check installer.tree / installer.virtArgs' : 'check the grub default / the installer URLs';
  const noId = seen.machineIdBefore === undefined ? 'none was recorded before the reinstall' : '/etc/machine-id cannot be read now';
  if (seen.sameKey && seen.sameId) return `${name} came back with its old system: same host key and machine-id — the installer did not run; ${check}`;
  if (seen.sameId) return `${name} came back with its old system: same machine-id (no host key to compare) — the installer did not run; ${check}`;
  if (seen.sameKey) {
    return `${name} came back with its old system: same host key, and no machine-id to tell a new system by (${noId}) — the installer did not run; ${check}`;
  }
  return `${name} came back with nothing that shows a new system: no host key or machine-id of the old system to compare (${noId}) — ${check}`;
}
