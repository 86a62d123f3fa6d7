/**
 * Step 8: runs only after an approval is recorded in the store. Checks the host is still the one rekick disabled
 * (its comment is rekick's), then enables it and leaves a comment saying when it was reinstalled and who approved.
 */
import { StepError } from '../errors';
import type { Step } from './types';
import { isKojiBuilder } from './plan-text';
import { commentName } from '../present/identity';

export const enableStep: Step = {
  name: 'enable',
  timeoutMs: (c) => c.timeouts.step,
  retry: true,
  abortable: false,
  appliesTo: isKojiBuilder,
  describe: (host) => (isKojiBuilder(host) ? `after !approve ${host.name}: Koji enableHost ${host.name}` : 'skipped'),
  async run(ctx) {
    const { job, host, koji } = ctx;
    const approval = job.approval;
    if (!approval) throw new StepError('E_NOT_APPROVED', `${host.name} has no recorded approval; rekick never enables a host nobody approved`);
    if (job.kojiBefore && !job.kojiBefore.enabled && !approval.override) {
      throw new StepError('E_WAS_DISABLED', `${host.name} was disabled before rekick touched it (comment: "${job.kojiBefore.comment ?? ''}"); approve with --override to enable it anyway`);
    }
    const now = await koji.getHost(host.name, { signal: ctx.signal });
    if (!now) throw new StepError('E_KOJI_UNKNOWN_HOST', `Koji no longer knows a host named ${host.name}`);
    if (!now.enabled && job.kojiComment && now.comment !== job.kojiComment && !approval.override) {
      throw new StepError(
        'E_KOJI_CHANGED',
        `${host.name} was changed in Koji since rekick disabled it (comment now: "${now.comment ?? ''}"); someone may have disabled it for another reason — check, then !approve ${host.name} --override`,
      );
    }
    const comment = `rekick: reinstalled ${new Date().toISOString().slice(0, 16).replace('T', ' ')}Z (job ${job.id}), enabled on approval of ${commentName(approval.by)}`.slice(0, 255);
    // The enable and its comment in one request (a multiCall).
    if (!now.enabled) await koji.enableHost(host.name, { comment });
    else await koji.setHostComment(host.name, comment);
  },
};
