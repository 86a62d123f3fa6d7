/**
 * What rekick posts to Slack: each job gets one parent message per channel, updated in place with a step table
 * (and buttons while it awaits approval), its step lines going to the thread; sends for one job and channel run
 * in order. Replies to a click go privately to the clicker.
 */
import type { Job, Origin } from '../../model';
import type { OutgoingMessage } from '../chat-adapter';
import { escapeMrkdwn, parentBlocks, parentText, type SlackBlock } from './blocks';
import type { SlackState } from './state';

const MAX_PARENTS = 2000;

const parentKey = (jobId: string, channel: string) => `${jobId}\u0000${channel}`;

/** Sends one message: ephemeral to a clicker, a job's line under its parent message, else a plain post. */
export async function sendToSlack(state: SlackState, target: Origin, message: OutgoingMessage): Promise<void> {
  if (!state.app) throw new Error('Slack adapter is not started');
  const client = state.app.client;
  const { config } = state;
  const clicker = state.clickOrigins.get(target);
  const privateTo = message.ephemeralTo?.source === 'slack' ? message.ephemeralTo.id : clicker;
  if (privateTo) {
    await client.chat.postEphemeral({ token: config.token, channel: target.room, user: privateTo, text: escapeMrkdwn(message.text), thread_ts: clicker ? undefined : target.thread });
    return;
  }
  const event = message.event;
  if (event && 'job' in event) {
    await postJob(state, event.job, target.room, message.text);
    return;
  }
  await client.chat.postMessage({ token: config.token, channel: target.room, text: escapeMrkdwn(message.text), thread_ts: target.thread });
}

/** A job's parent message as it reads now, and the same as one string (to skip an update that changes nothing). */
function renderParent(state: SlackState, job: Job): { text: string; blocks: SlackBlock[]; rendered: string } {
  const text = escapeMrkdwn(parentText(job));
  const blocks = parentBlocks(job, state.now());
  return { text, blocks, rendered: JSON.stringify([text, blocks]) };
}

/** Posts (or updates) the job's parent message in the channel, then the line in its thread. */
async function postJob(state: SlackState, job: Job, channel: string, line: string): Promise<void> {
  const client = state.app!.client;
  const { config, parents } = state;
  const key = parentKey(job.id, channel);
  await state.chains.run(key, async () => {
    const { text, blocks, rendered } = renderParent(state, job);
    let parent = parents.get(key);
    if (!parent) {
      const r = await client.chat.postMessage({ token: config.token, channel, text, blocks });
      parent = { channel: r.channel ?? channel, ts: r.ts!, rendered };
      parents.set(key, parent);
      for (const old of parents.keys()) {
        if (parents.size <= MAX_PARENTS) break;
        parents.delete(old);
      }
    } else if (parent.rendered !== rendered) {
      await client.chat.update({ token: config.token, channel: parent.channel, ts: parent.ts, text, blocks });
      parent.rendered = rendered;
    }
    await client.chat.postMessage({ token: config.token, channel: parent.channel, thread_ts: parent.ts, text: escapeMrkdwn(line) });
  });
}

/**
 * The clicked message of a job that no longer waits for approval shows the job's state now, without buttons: a
 * message from before a restart (rekick no longer tracks it) or one whose job was decided on elsewhere.
 */
export async function refreshClicked(state: SlackState, jobId: string, channel: string, ts: string): Promise<void> {
  const job = state.options.jobs?.(jobId);
  if (!job || job.state === 'awaiting-approval' || !state.app) return;
  const client = state.app.client;
  const key = parentKey(job.id, channel);
  await state.chains.run(key, async () => {
    const { text, blocks, rendered } = renderParent(state, job);
    const parent = state.parents.get(key);
    if (parent?.ts === ts && parent.rendered === rendered) return;
    await client.chat.update({ token: state.config.token, channel, ts, text, blocks });
    if (parent?.ts === ts) parent.rendered = rendered;
  }).catch((err: unknown) => state.log.warn({ err, job: jobId }, 'could not update the clicked Slack message'));
}

/** The parent message of a job in a channel, if posted. */
export function parentOf(state: SlackState, jobId: string, channel: string): { channel: string; ts: string } | undefined {
  const p = state.parents.get(parentKey(jobId, channel));
  return p ? { channel: p.channel, ts: p.ts } : undefined;
}
