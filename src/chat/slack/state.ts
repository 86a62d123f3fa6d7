/**
 * What one Slack adapter holds while it runs: the Bolt app and its receiver, the HTTP server, who the bot is,
 * display names seen, click origins, each job's parent message per channel and the send chains.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { App, HTTPReceiver } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Identity, Origin } from '../../model';
import { SerialByKey } from '../../util/serial-by-key';
import type { MessageHandler } from '../chat-adapter';
import { createSlackRequestGuard, type SlackRequestGuard } from './request-guard';
import type { SlackAdapterOptions, SlackConfig } from './types';

export interface Parent {
  channel: string;
  ts: string;
  /** Last rendered text+blocks, to skip an update that changes nothing. */
  rendered: string;
}

export interface SlackState {
  readonly options: SlackAdapterOptions;
  readonly config: SlackConfig;
  readonly log: Logger;
  readonly now: () => Date;
  /** Display names by user id, as Slack told them. */
  readonly names: Map<string, string>;
  /** Origins of button clicks: replies to them go privately to the clicker. */
  readonly clickOrigins: WeakMap<Origin, string>;
  /** Parent messages by job and channel, oldest first; the oldest are forgotten past MAX_PARENTS. */
  readonly parents: Map<string, Parent>;
  /** Sends for one key in order (one parent message per job and channel, never two). */
  readonly chains: SerialByKey;
  /** When each request reached rekick (before its body is read and Bolt authorises it). */
  readonly arrivals: WeakMap<IncomingMessage, Date>;
  readonly guard: SlackRequestGuard;
  onMessage?: MessageHandler;
  server?: Server;
  receiver?: HTTPReceiver;
  app?: App;
  ready: boolean;
  botUserId?: string;
  botId?: string;
}

export function createSlackState(options: SlackAdapterOptions): SlackState {
  const { config, log } = options;
  const now = options.now ?? (() => new Date());
  return {
    options,
    config,
    log,
    now,
    names: new Map(),
    clickOrigins: new WeakMap(),
    parents: new Map(),
    chains: new SerialByKey(),
    arrivals: new WeakMap(),
    guard: createSlackRequestGuard({ signingSecret: config.signingSecret, teamId: config.teamId, log, onRejected: options.onRejected, now: () => now().getTime() }),
    ready: false,
  };
}

/** A Slack user as an identity (remembering the display name when Slack gives one). */
export function identity(state: SlackState, id: string, name?: string): Identity {
  if (name) state.names.set(id, name);
  return { source: 'slack', id, display: state.names.get(id) ?? id };
}

/** Who the bot is (auth.test), asked when first needed and again after a failure; never fatal. */
export async function whoAmI(state: SlackState, client: App['client']): Promise<void> {
  if (state.botUserId) return;
  try {
    const r = await client.auth.test({ token: state.config.token });
    state.botUserId = r.user_id;
    state.botId = r.bot_id;
  } catch (err) {
    state.log.warn({ err: (err as Error).message }, 'Slack auth.test failed; will ask again (check slack.token and slack.apiUrl)');
  }
}
