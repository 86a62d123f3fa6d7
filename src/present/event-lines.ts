/**
 * What the channel sees as a job goes: pure functions from executor events to lines of text (the chat contract,
 * docs/operator-guide.md). Every progress line names the host and the step with its `[N/8]`.
 */
import type { ExecutorEvent, Job } from '../model';
import { retryStep } from '../steps/disarm-installer';
import { formatDuration } from './duration';
import { chatName } from './identity';
import { leftState, leftStateAndDisarm } from './left-state';
import { boundedLine } from './one-line';
import { proofSummary } from './proof';
import { currentStep, stepTag } from './step-tag';

const TAIL_SHOWN = 5;

/** A virthost's job and its guests' jobs say how they go together (src/executor/virthost-guests.ts). */
function virthostLinks(job: Job): string {
  const guests = job.options.guestJobIds?.length ?? 0;
  if (guests) return `its ${guests} guest${guests === 1 ? '' : 's'} drained first, reinstalled after it`;
  if (job.options.virthostJobId) return `its virthost ${job.options.virthost} goes first (job ${job.options.virthostJobId})`;
  return '';
}

export function renderEvent(event: ExecutorEvent): string[] {
  switch (event.type) {
    case 'job-queued': {
      const { job } = event;
      const extras = [job.options.forceDrain ? 'force-drain' : '', job.options.rollingRunId ? `rolling run ${job.options.rollingRunId}` : '', virthostLinks(job)]
        .filter(Boolean)
        .join(', ');
      return [
        `${job.host} queued for reinstall by ${chatName(job.requestedBy)} (job ${job.id}${extras ? `, ${extras}` : ''})${job.reason ? `: ${boundedLine(job.reason, 200)}` : ''}`,
      ];
    }
    case 'step-started':
      return [`${event.job.host} ${stepTag(event.step, event.index)} …`];
    case 'step-progress':
      return [`${event.job.host} ${stepTag(event.step)}: ${boundedLine(event.message)}`];
    case 'step-succeeded':
      return [`${event.job.host} ${stepTag(event.step, event.index)} ✓ ${formatDuration(event.durationMs)}`];
    case 'step-retrying':
      return [
        `${event.job.host} ${stepTag(event.step)} attempt ${event.attempt} failed: ${boundedLine(event.error.message)} — retrying in ${formatDuration(event.delayMs)}`,
      ];
    case 'step-failed': {
      const head = `${event.job.host} ${stepTag(event.step, event.index)} failed: ${boundedLine(event.error.message)} — ${leftStateAndDisarm(event.job)}; !retry ${event.job.host} resumes from ${retryStep(event.job, event.step)}`;
      const tail = event.outputTail.slice(-TAIL_SHOWN).map((l) => `  | ${boundedLine(l, 200)}`);
      return tail.length ? [head, `${event.job.host} last output:`, ...tail] : [head];
    }
    case 'host-key-changed':
      return [
        `${event.job.host} new SSH host key accepted after reinstall: ${event.fingerprint}${event.previous ? ` (was ${event.previous})` : ''}`,
      ];
    case 'awaiting-approval': {
      const proof = event.job.proof ? ` (${proofSummary(event.job.proof)})` : '';
      return [`${event.job.host} is ready${proof}: !approve ${event.job.host} to enable it in Koji (or !deny ${event.job.host} REASON)`];
    }
    case 'approved': {
      const how = event.auto ? 'auto-approved (rolling.autoApprove)' : `approved by ${chatName(event.by)}`;
      return [`${event.job.host} ${how}${event.override ? ' with --override' : ''}; enabling in Koji`];
    }
    case 'enabled':
      return [`${event.job.host} is enabled in Koji — reinstall done (job ${event.job.id})`];
    case 'denied':
      return [
        `${event.job.host} denied by ${chatName(event.by)}${event.reason ? `: ${boundedLine(event.reason, 200)}` : ''} — ${leftState(event.job)}`,
      ];
    case 'cancelled': {
      return [`${event.job.host} cancelled by ${chatName(event.by)} at ${stepTag(currentStep(event.job))} — ${leftStateAndDisarm(event.job)}`];
    }
    case 'notice': {
      const prefix = event.level === 'error' ? 'error: ' : event.level === 'warn' ? 'warning: ' : '';
      return [`${prefix}${boundedLine(event.text, 400)}`];
    }
  }
}
