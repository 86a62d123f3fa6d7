/**
 * Step 1: disable the builder in Koji with a comment naming rekick, the requester and the job. Records what Koji
 * said of the host before rekick touched it, once (a resumed step keeps the first record), and refuses when the
 * disable would leave fewer enabled builders of the host's arch than `koji.minEnabled`.
 */
import { StepError } from '../errors';
import { SerialByKey } from '../util/serial-by-key';
import type { Step } from './types';
import { isKojiBuilder } from './plan-text';
import { disableComment } from '../present/koji-comments';

/** Where the disable step keeps the host's Koji id for the drain step (job.data survives a restart). */
export const KOJI_HOST_ID = 'koji.hostId';

/**
 * The capacity check and the disable it allows, one host of an arch at a time (this process is the only rekick of
 * its state file): disables side by side would each count the others as still enabled and together go under
 * `koji.minEnabled`.
 */
const capacityByArch = new SerialByKey();

export const disableStep: Step = {
  name: 'disable',
  timeoutMs: (c) => c.timeouts.step,
  retry: true,
  abortable: false,
  appliesTo: isKojiBuilder,
  describe: (host) => (isKojiBuilder(host) ? `Koji disableHost ${host.name} + editHost comment` : 'skipped (a virthost is no Koji builder)'),
  async run(ctx) {
    const { job, host, koji, config } = ctx;
    const before = await koji.getHost(host.name, { signal: ctx.signal });
    if (!before) {
      throw new StepError('E_KOJI_UNKNOWN_HOST', `Koji does not know a host named ${host.name}; add it to the hub or fix hosts[] in the config`);
    }
    // The drain step asks Koji for this host's tasks by its id: it need not look the host up again.
    job.data[KOJI_HOST_ID] = before.id;
    if (!job.kojiBefore) {
      job.kojiBefore = { enabled: before.enabled, comment: before.comment };
      await ctx.save();
    }
    const comment = disableComment(job);
    if (before.enabled) {
      const min = config.koji.minEnabled[host.arch];
      // The disable and its comment in one request (a multiCall): no moment where the host is off without a why.
      const disable = () => koji.disableHost(host.name, { comment });
      if (min === undefined) await disable();
      else {
        await capacityByArch.run(host.arch, async () => {
          const enabled = await koji.listHosts({ arches: [host.arch], enabled: true, signal: ctx.signal });
          const left = enabled.filter((h) => h.name !== host.name).length;
          if (left < min) {
            throw new StepError(
              'E_CAPACITY',
              `disabling ${host.name} would leave ${left} enabled ${host.arch} builder${left === 1 ? '' : 's'}, under koji.minEnabled.${host.arch} = ${min}; wait for other reinstalls to finish or lower the minimum`,
            );
          }
          await disable();
        });
      }
    } else {
      await koji.setHostComment(host.name, comment);
    }
    job.kojiComment = comment;
  },
};
