/**
 * The proof of a reinstall where approvers look: the approval prompt (still naming the host and `!approve HOST`),
 * `!status HOST`, Slack's approval message, and `rekick status HOST`.
 */
import { describe, expect, it } from 'vitest';
import { renderEvent } from '../../src/present/event-lines';
import { renderJob } from '../../src/present/job-lines';
import { proofSummary } from '../../src/present/proof';
import { parentBlocks } from '../../src/chat/slack/blocks';
import { cliJobLines } from '../../src/present/cli-lines';
import type { Job, ReinstallProof } from '../../src/model';
import { makeJob } from '../fakes/jobs';

const NOW = new Date('2026-12-06T12:00:00Z');
const OLD = 'SHA256:AAAAoldkeyoldkeyoldkeyoldkeyoldkeyoldkeyold';
const NEW = 'SHA256:BBBBnewkeynewkeynewkeynewkeynewkeynewkeynew';
const OLD_ID = '0123456789abcdef0123456789abcdef';
const NEW_ID = 'fedcba9876543210fedcba9876543210';

const proof = (p: Partial<ReinstallProof> = {}): ReinstallProof => ({
  at: '2026-12-06T11:50:00.000Z',
  hostKey: { before: OLD, after: NEW },
  machineId: { before: OLD_ID, after: NEW_ID },
  changed: ['host key', 'machine-id'],
  ...p,
});

function waiting(p?: ReinstallProof): Job {
  const job = makeJob({ id: 'j7', host: 'buildarm-03', state: 'awaiting-approval', current: 7, proof: p });
  for (const s of job.steps.slice(0, 7)) Object.assign(s, { status: 'succeeded', durationMs: 1000 });
  return job;
}

describe('the proof of a reinstall, as approvers see it', () => {
  it('the approval prompt says what changed, names the host and how to approve', () => {
    expect(renderEvent({ type: 'awaiting-approval', job: waiting(proof()) })).toEqual([
      'buildarm-03 is ready (new system: host key and machine-id changed): !approve buildarm-03 to enable it in Koji (or !deny buildarm-03 REASON)',
    ]);
  });

  it('says which one changed, and when the kickstart kept the host key', () => {
    expect(proofSummary(proof({ changed: ['machine-id'], hostKey: { before: OLD, after: OLD } }))).toBe('new system: machine-id changed, host key kept');
    expect(proofSummary(proof({ changed: ['host key'], machineId: { before: OLD_ID, after: OLD_ID } }))).toBe('new system: host key changed (machine-id unchanged)');
    expect(proofSummary(proof({ changed: [], basis: 'virt-install', hostKey: { after: NEW }, machineId: { after: NEW_ID } }))).toBe(
      'new system: guest re-created by virt-install, no record of its old system to compare',
    );
  });

  it('!status HOST and rekick status HOST: the proof with the values compared', () => {
    const line = '  new system: host key and machine-id changed (host key ' + `${OLD} → ${NEW}; machine-id 01234567… → fedcba98…)`;
    expect(renderJob(waiting(proof()), NOW)).toContain(line);
    expect(cliJobLines(waiting(proof()))).toContain(line);
    expect(renderJob(waiting(), NOW).join('\n')).not.toContain('new system');
  });

  it('Slack: the approval message carries the proof above its buttons', () => {
    const blocks = parentBlocks(waiting(proof()), NOW);
    const i = blocks.findIndex((b) => JSON.stringify(b).includes('new system: host key and machine-id changed'));
    expect(i).toBeGreaterThan(0);
    expect(blocks.findIndex((b) => b.type === 'actions')).toBeGreaterThan(i);
  });
});
