/** The Slack adapter's public shapes: its config, options and what it offers beyond a ChatAdapter. */
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema';
import type { Job } from '../../model';
import type { ChatAdapter } from '../chat-adapter';
import type { SlackRejection } from './request-guard';

export type SlackConfig = NonNullable<Config['slack']>;

export interface SlackAdapterOptions {
  config: SlackConfig;
  log: Logger;
  /** Address to listen on instead of `config.host` (tests). */
  listenHost?: string;
  /** Web API retries (Bolt's default retries for ~30 min; tests pass a short one). */
  retryConfig?: { retries: number; factor?: number; minTimeout?: number; maxTimeout?: number };
  /** Answer Slack only after the handler has run (deterministic tests; Slack wants an answer within 3 s). */
  processBeforeResponse?: boolean;
  now?: () => Date;
  /** Every refused request (bad signature, stale timestamp, replay, another workspace): counted, not stored (src/audit/). */
  onRejected?: (entry: SlackRejection) => void | Promise<void>;
  /**
   * Looks a job up by id: after a click on Approve/Deny of a job no longer waiting (decided on, cancelled, or a
   * message from before a restart), the clicked message is updated to the job's state, without buttons.
   */
  jobs?: (jobId: string) => Job | undefined;
}

/** Where Slack sends events, slash commands and clicks. */
export const SLACK_EVENTS_PATH = '/slack/events';

export interface SlackAdapter extends ChatAdapter {
  /** The port the HTTP receiver listens on (when config.port is 0); 0 when not listening. */
  port(): number;
  /**
   * Opens the receiver now (E_LISTEN when it cannot), so that rekick fails at start before resuming any job;
   * it answers 503 until `start`. `start` opens it when this was not called.
   */
  listen(): Promise<void>;
  /**
   * Slack's endpoint as a request handler (signature, timestamp, replay and workspace checks, then Bolt), as the
   * receiver serves it; answers 503 until the adapter is started. Other paths: 404.
   */
  requestListener: RequestListener;
  /** The parent message of a job in a channel, if posted. */
  parentOf(jobId: string, channel: string): { channel: string; ts: string } | undefined;
  /** Jobs and channels with sends under way (tests: it returns to 0 once sends are done). */
  sendChains(): number;
}
