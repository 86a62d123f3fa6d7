/**
 * How the proof of a reinstall (job.proof, recorded by wait-ssh) reads on the approval prompt, in !status, on the
 * status page and in `rekick status`: what changed, so approvers see the host runs a new system.
 */
import type { ReinstallProof } from '../model';

/** In a few words: `new system: host key and machine-id changed`. */
export function proofSummary(proof: ReinstallProof): string {
  if (proof.basis === 'virt-install') return 'new system: guest re-created by virt-install, no record of its old system to compare';
  const key = proof.changed.includes('host key');
  const id = proof.changed.includes('machine-id');
  if (key && id) return 'new system: host key and machine-id changed';
  if (id) return `new system: machine-id changed${proof.hostKey.before && proof.hostKey.before === proof.hostKey.after ? ', host key kept' : ''}`;
  const sameId = proof.machineId.before !== undefined && proof.machineId.before === proof.machineId.after;
  return `new system: host key changed${sameId ? ' (machine-id unchanged)' : ''}`;
}

/** The values compared: `host key SHA256:a → SHA256:b; machine-id 0f3a9c1e… → 77b0d2aa…`. */
export function proofDetail(proof: ReinstallProof): string {
  const id = (v: string | undefined, none: string) => (v ? `${v.slice(0, 8)}…` : none);
  return (
    `host key ${proof.hostKey.before ?? 'not recorded'} → ${proof.hostKey.after ?? 'unknown'}; ` +
    `machine-id ${id(proof.machineId.before, 'not recorded')} → ${id(proof.machineId.after, 'unreadable')}`
  );
}
