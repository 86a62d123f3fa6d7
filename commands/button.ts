/** A Slack button click names the job its message was posted for; the command acts on that job only. */
import { UserError } from '../src/errors';
import type { CommandMessage } from './types';

/**
 * The job a click was for, or undefined for a typed line. A button that names no job (posted before rekick bound
 * its buttons to a job) is refused: it cannot say which of the host's jobs its clicker saw.
 */
export function clickedJob(message: CommandMessage, host: string, verb: 'approve' | 'deny', nothing: string): string | undefined {
  if (!message.button) return undefined;
  if (!message.button.jobId) {
    throw new UserError(
      `this button was posted before rekick's buttons named their job, so it cannot tell which job of ${host} it was for; ${nothing} — type !${verb} ${host} to decide on the job waiting now`,
      'E_STALE_BUTTON',
    );
  }
  return message.button.jobId;
}
