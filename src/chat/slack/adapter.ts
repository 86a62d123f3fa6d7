/**
 * The Slack adapter (@slack/bolt over HTTP, one endpoint /slack/events for events, the /rekick slash command
 * and button clicks; signatures, timestamps, replays and the workspace checked first by slack-request-guard).
 * Its receiver listens on `slack.host:slack.port` and serves /slack/events alone: rekick's public face.
 * Channel messages starting with `!`, mentions, the slash command and Approve/Deny clicks become ChatMessages.
 * Each job gets one parent message per channel, updated in place with a step table (and buttons while it awaits
 * approval); its step lines go to the thread.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver } from '@slack/bolt';
import type { Logger } from 'pino';
import { SerialByKey } from '../../util/serial-by-key';
import type { Config } from '../../config/schema';
import { listen } from '../../http/listen';
import type { Identity, Job, Origin } from '../../model';
import type { ChatAdapter, ChatMessage, MessageHandler, OutgoingMessage } from '../chat-adapter';
import { boltLogger } from './bolt-logger';
import { createSlackRequestGuard, type SlackRejection } from './request-guard';
import { APPROVE_ACTION, DENY_ACTION, escapeMrkdwn, parentBlocks, parentText, parseButtonValue, type SlackBlock } from './blocks';

type BoltApp = App;

const MAX_PARENTS = 2000;

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

/** The context key (Bolt custom property) carrying when the request reached rekick. */
const RECEIVED_AT = 'rekickReceivedAt';

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

interface Parent {
  channel: string;
  ts: string;
  /** Last rendered text+blocks, to skip an update that changes nothing. */
  rendered: string;
}

/** `<@U123> status` / `<@U123>: !status` -> `!status` */
function mentionCommand(text: string): string | undefined {
  const rest = text.replace(/^\s*<@[A-Z0-9]+(\|[^>]*)?>[:,]?\s*/, '').trim();
  if (!rest) return undefined;
  return rest.startsWith('!') ? rest : `!${rest}`;
}

export function createSlackAdapter(options: SlackAdapterOptions): SlackAdapter {
  const { config, log } = options;
  const now = options.now ?? (() => new Date());
  const names = new Map<string, string>();
  /** Origins of button clicks: replies to them go privately to the clicker. */
  const clickOrigins = new WeakMap<Origin, string>();
  /** Parent messages by job and channel, oldest first; the oldest are forgotten past MAX_PARENTS. */
  const parents = new Map<string, Parent>();
  /** Sends for one key in order (one parent message per job and channel, never two). */
  const chains = new SerialByKey();
  let onMessage: MessageHandler | undefined;
  let server: Server | undefined;
  let ready = false;
  let botUserId: string | undefined;
  let botId: string | undefined;
  let app: BoltApp | undefined;

  const identity = (id: string, name?: string): Identity => {
    if (name) names.set(id, name);
    return { source: 'slack', id, display: names.get(id) ?? id };
  };

  async function handle(message: ChatMessage): Promise<void> {
    if (!onMessage) return;
    try {
      await onMessage(message);
    } catch (err) {
      log.error({ err, room: message.origin.room }, 'handling a Slack message failed');
    }
  }

  /** Who the bot is (auth.test), asked when first needed and again after a failure; never fatal. */
  async function whoAmI(client: BoltApp['client']): Promise<void> {
    if (botUserId) return;
    try {
      const r = await client.auth.test({ token: config.token });
      botUserId = r.user_id;
      botId = r.bot_id;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'Slack auth.test failed; will ask again (check slack.token and slack.apiUrl)');
    }
  }

  /**
   * When each request reached rekick, before its body is read and Bolt authorises it (an auth.test may go out
   * first): `!approve all` counts only what was announced by then. Handed to the handlers as context.receivedAt.
   */
  const arrivals = new WeakMap<IncomingMessage, Date>();
  const arrivedAt = (context: Record<string, unknown>): Date => {
    const at = context[RECEIVED_AT];
    return at instanceof Date ? at : now();
  };

  const guard = createSlackRequestGuard({ signingSecret: config.signingSecret, teamId: config.teamId, log, onRejected: options.onRejected, now: () => now().getTime() });
  let receiver: HTTPReceiver | undefined;

  function plain(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(text);
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    arrivals.set(req, now());
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    // Nothing but Slack's endpoint here, and no echo of the path asked for.
    if (path !== SLACK_EVENTS_PATH) return plain(res, 404, `not found (Slack's requests go to ${SLACK_EVENTS_PATH})\n`);
    if (req.method !== 'POST') return plain(res, 405, 'POST only\n');
    const current = receiver;
    if (!current) return plain(res, 503, 'the Slack adapter is not started\n');
    if ((await guard(req, res)) === 'done') return;
    current.requestListener(req, res);
  }

  const requestListener: RequestListener = (req, res) => {
    serve(req, res).catch((err: unknown) => {
      log.error({ err }, 'Slack request failed');
      if (!res.headersSent) plain(res, 500, 'internal error\n');
      else res.end();
    });
  };

  function buildApp(): BoltApp {
    receiver = new HTTPReceiver({
      signingSecret: config.signingSecret,
      endpoints: [SLACK_EVENTS_PATH],
      processBeforeResponse: options.processBeforeResponse ?? false,
      logger: boltLogger(log),
      customPropertiesExtractor: (req) => ({ [RECEIVED_AT]: arrivals.get(req) }),
    });
    const a = new App({
      receiver,
      // authorize instead of token: no auth.test in the constructor, so a Web API that is down cannot crash us.
      authorize: async () => {
        await whoAmI(a.client);
        return { botToken: config.token, botId, botUserId };
      },
      logger: boltLogger(log),
      clientOptions: {
        slackApiUrl: config.apiUrl,
        retryConfig: options.retryConfig,
      },
    });

    a.message(async ({ message, context }) => {
      const m = message as { subtype?: string; text?: string; user?: string; channel: string; channel_type?: string; thread_ts?: string; bot_id?: string };
      if (m.subtype || m.bot_id || !m.user || !m.text) return;
      const text = m.text.trim();
      // A direct message to the bot is always for it (like an IRC private message).
      if (m.channel_type === 'im') {
        await handle({ origin: { adapter: 'slack', room: m.channel, private: true }, user: identity(m.user), text: text.startsWith('!') ? text : `!${text}`, receivedAt: arrivedAt(context) });
        return;
      }
      if (!text.startsWith('!')) return;
      await handle({ origin: { adapter: 'slack', room: m.channel, thread: m.thread_ts }, user: identity(m.user), text, receivedAt: arrivedAt(context) });
    });

    a.event('app_mention', async ({ event, context }) => {
      if (!event.user) return;
      const text = mentionCommand(event.text);
      // `!cmd @rekick` starts with `!`: the message event has it already.
      if (!text || event.text.trim().startsWith('!')) return;
      await handle({ origin: { adapter: 'slack', room: event.channel, thread: event.thread_ts }, user: identity(event.user), text, receivedAt: arrivedAt(context) });
    });

    a.command('/rekick', async ({ command, ack, context }) => {
      await ack();
      const text = command.text.trim();
      await handle({
        origin: { adapter: 'slack', room: command.channel_id },
        user: identity(command.user_id, command.user_name),
        text: `!${text.replace(/^!/, '') || 'help'}`,
        isSlashCommand: true,
        receivedAt: arrivedAt(context),
      });
    });

    for (const [actionId, verb] of [
      [APPROVE_ACTION, 'approve'],
      [DENY_ACTION, 'deny'],
    ] as const) {
      a.action(actionId, async ({ ack, body, action, context }) => {
        await ack();
        const receivedAt = arrivedAt(context);
        const b = body as { user: { id: string; username?: string; name?: string }; channel?: { id: string }; message?: { ts: string; thread_ts?: string } };
        const clicked = parseButtonValue((action as { value?: string }).value);
        if (!b.channel) return;
        if (!clicked) {
          log.warn({ action: actionId, user: b.user.id }, 'a Slack button click whose value rekick did not write; ignored');
          return;
        }
        const origin: Origin = { adapter: 'slack', room: b.channel.id, thread: b.message?.ts };
        clickOrigins.set(origin, b.user.id);
        // The command acts on the job the button was posted for only (a button naming no job is refused).
        await handle({
          origin,
          user: identity(b.user.id, b.user.username ?? b.user.name),
          text: `!${verb} ${clicked.host}`,
          interactive: true,
          button: { jobId: clicked.jobId },
          receivedAt,
        });
        if (clicked.jobId && b.message?.ts) await refreshClicked(clicked.jobId, b.channel.id, b.message.ts);
      });
    }

    a.error(async (err) => {
      log.error({ err: err.message, code: (err as { code?: string }).code }, 'Slack handler error');
    });
    return a;
  }

  function serial(key: string, fn: () => Promise<void>): Promise<void> {
    return chains.run(key, fn);
  }

  /** A job's parent message as it reads now, and the same as one string (to skip an update that changes nothing). */
  function renderParent(job: Job): { text: string; blocks: SlackBlock[]; rendered: string } {
    const text = escapeMrkdwn(parentText(job));
    const blocks = parentBlocks(job, now());
    return { text, blocks, rendered: JSON.stringify([text, blocks]) };
  }

  /**
   * The clicked message of a job that no longer waits for approval shows the job's state now, without buttons: a
   * message from before a restart (rekick no longer tracks it) or one whose job was decided on elsewhere.
   */
  async function refreshClicked(jobId: string, channel: string, ts: string): Promise<void> {
    const job = options.jobs?.(jobId);
    if (!job || job.state === 'awaiting-approval' || !app) return;
    const client = app.client;
    const key = `${job.id}\u0000${channel}`;
    await serial(key, async () => {
      const { text, blocks, rendered } = renderParent(job);
      const parent = parents.get(key);
      if (parent?.ts === ts && parent.rendered === rendered) return;
      await client.chat.update({ token: config.token, channel, ts, text, blocks });
      if (parent?.ts === ts) parent.rendered = rendered;
    }).catch((err: unknown) => log.warn({ err, job: jobId }, 'could not update the clicked Slack message'));
  }

  async function postJob(job: Job, channel: string, line: string): Promise<void> {
    const client = app!.client;
    const key = `${job.id}\u0000${channel}`;
    await serial(key, async () => {
      const { text, blocks, rendered } = renderParent(job);
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

  async function openReceiver(): Promise<void> {
    if (server) return;
    const s = createServer(requestListener);
    await listen(s, config.port, options.listenHost ?? config.host, { what: "Slack's receiver", hostKey: 'slack.host', portKey: 'slack.port' }, log);
    server = s;
    log.info({ host: options.listenHost ?? config.host, port: (s.address() as AddressInfo).port }, 'Slack receiver listening (serves /slack/events only)');
  }

  return {
    name: 'slack',
    listen: openReceiver,
    // One message per reply: a longer list than this is summarised in a channel, paged in a direct message.
    replyLines: { room: 25, private: 50 },
    async start(handler: MessageHandler) {
      onMessage = handler;
      app = buildApp();
      await openReceiver();
      ready = true;
      void whoAmI(app.client);
    },
    async stop() {
      ready = false;
      await chains.idle();
      const s = server;
      receiver = undefined;
      app = undefined;
      server = undefined;
      if (s) {
        await new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        });
      }
    },
    async send(target: Origin, message: OutgoingMessage) {
      if (!app) throw new Error('Slack adapter is not started');
      const client = app.client;
      const clicker = clickOrigins.get(target);
      const privateTo = message.ephemeralTo?.source === 'slack' ? message.ephemeralTo.id : clicker;
      if (privateTo) {
        await client.chat.postEphemeral({ token: config.token, channel: target.room, user: privateTo, text: escapeMrkdwn(message.text), thread_ts: clicker ? undefined : target.thread });
        return;
      }
      const event = message.event;
      if (event && 'job' in event) {
        await postJob(event.job, target.room, message.text);
        return;
      }
      await client.chat.postMessage({ token: config.token, channel: target.room, text: escapeMrkdwn(message.text), thread_ts: target.thread });
    },
    noticeRooms() {
      return config.channels.map((room) => ({ adapter: 'slack', room }));
    },
    isReady() {
      return ready;
    },
    port() {
      return server ? (server.address() as AddressInfo).port : 0;
    },
    requestListener,
    parentOf(jobId: string, channel: string) {
      const p = parents.get(`${jobId}\u0000${channel}`);
      return p ? { channel: p.channel, ts: p.ts } : undefined;
    },
    sendChains() {
      return chains.size;
    },
  };
}
