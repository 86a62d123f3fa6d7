/**
 * A local stand-in for Slack: the Web API methods rekick calls (auth.test, chat.postMessage, chat.update,
 * chat.postEphemeral) at `${url}` (give it as slack.apiUrl), recording every call; `response_url`s; a way to
 * make a method rate-limited once (HTTP 429 + Retry-After); and the other direction, signed requests to the
 * bot as Slack sends them (events, slash commands, button clicks).
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitForMatch } from '../../support/wait-for-match';

export interface ApiCall {
  method: string;
  token?: string;
  args: Record<string, unknown>;
  /** Time the call arrived (ms). */
  at: number;
}

export interface SlackApiStandIn {
  /** Base URL for slack.apiUrl, ending in `/api/`. */
  url: string;
  calls: ApiCall[];
  /** Calls of one method, in order. */
  callsOf(method: string): ApiCall[];
  /** The next `times` calls of method answer 429 with Retry-After: seconds. */
  rateLimit(method: string, times: number, seconds: number): void;
  /** A response_url for a slash command / click, and what was posted to it. */
  responseUrl(id: string): string;
  responses: Array<{ id: string; body: Record<string, unknown> }>;
  waitFor(pred: (c: ApiCall) => boolean, timeoutMs?: number): Promise<ApiCall>;
  close(): Promise<void>;
}

export const BOT_USER_ID = 'U0REKICK';
export const BOT_ID = 'B0REKICK';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseArgs(body: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) return body ? (JSON.parse(body) as Record<string, unknown>) : {};
  const args: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    // web-api form-encodes nested values (blocks, attachments) as JSON.
    args[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
  }
  return args;
}

export async function startSlackApi(): Promise<SlackApiStandIn> {
  const calls: ApiCall[] = [];
  const responses: Array<{ id: string; body: Record<string, unknown> }> = [];
  const limits = new Map<string, { times: number; seconds: number }>();
  const listeners = new Set<() => void>();
  let seq = 0;
  const nextTs = () => `1700000000.${String(++seq).padStart(6, '0')}`;

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(json));
    };
    if (url.pathname.startsWith('/response/')) {
      responses.push({ id: url.pathname.slice('/response/'.length), body: parseArgs(body, req.headers['content-type']) });
      for (const l of [...listeners]) l();
      return send(200, { ok: true });
    }
    const method = url.pathname.replace(/^\/api\//, '');
    const limit = limits.get(method);
    if (limit && limit.times > 0) {
      limit.times -= 1;
      return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limit.seconds) });
    }
    const args = parseArgs(body, req.headers['content-type']);
    const auth = req.headers.authorization;
    const token = auth?.replace(/^Bearer /, '') ?? (args.token as string | undefined);
    calls.push({ method, token, args, at: Date.now() });
    for (const l of [...listeners]) l();
    if (token !== undefined && !String(token).startsWith('xoxb-')) return send(200, { ok: false, error: 'invalid_auth' });
    switch (method) {
      case 'auth.test':
        return send(200, { ok: true, url: 'https://rekick-test.slack.com/', team: 'rekick', user: 'rekick', team_id: 'T0REKICK', user_id: BOT_USER_ID, bot_id: BOT_ID });
      case 'chat.postMessage': {
        const ts = nextTs();
        return send(200, { ok: true, channel: args.channel, ts, message: { text: args.text, ts, thread_ts: args.thread_ts } });
      }
      case 'chat.update':
        return send(200, { ok: true, channel: args.channel, ts: args.ts, text: args.text });
      case 'chat.postEphemeral':
        return send(200, { ok: true, message_ts: nextTs() });
      default:
        return send(200, { ok: false, error: 'unknown_method' });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  return {
    url: `${base}/api/`,
    calls,
    callsOf: (method) => calls.filter((c) => c.method === method),
    rateLimit(method, times, seconds) {
      limits.set(method, { times, seconds });
    },
    responseUrl: (id) => `${base}/response/${id}`,
    responses,
    waitFor(pred, timeoutMs = 10_000) {
      return waitForMatch(calls, listeners, pred, timeoutMs, () => `no matching Slack API call within ${timeoutMs}ms; calls: ${JSON.stringify(calls.map((c) => [c.method, c.args.text]))}`);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Slack's request signature: v0= + hex HMAC-SHA256(secret, `v0:${ts}:${body}`). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignedPostOptions {
  /** Seconds since the epoch (default now); an old one must be refused. */
  timestamp?: number;
  /** Sign with this secret instead (a wrong one must be refused). */
  secret?: string;
}

/** POSTs a body to the bot as Slack does (signed); JSON for events, form for commands and clicks. */
export async function postToBot(
  url: string,
  secret: string,
  body: string,
  contentType: 'application/json' | 'application/x-www-form-urlencoded',
  opts: SignedPostOptions = {},
): Promise<{ status: number; text: string }> {
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': slackSignature(opts.secret ?? secret, ts, body),
    },
    body,
  });
  return { status: res.status, text: await res.text() };
}

let eventSeq = 0;

/** An Events API callback for a channel message (or app_mention) from a user. */
export function eventBody(event: { type?: 'message' | 'app_mention'; user: string; channel: string; text: string; thread_ts?: string; channelType?: 'channel' | 'im'; team?: string }): string {
  eventSeq += 1;
  const ts = `1700001000.${String(eventSeq).padStart(6, '0')}`;
  return JSON.stringify({
    token: 'legacy-unused',
    team_id: event.team ?? 'T0REKICK',
    api_app_id: 'A0REKICK',
    type: 'event_callback',
    event_id: `Ev${String(eventSeq).padStart(8, '0')}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: event.team ?? 'T0REKICK', user_id: BOT_USER_ID, is_bot: true }],
    event: { type: event.type ?? 'message', channel_type: event.channelType ?? 'channel', user: event.user, channel: event.channel, text: event.text, ts, thread_ts: event.thread_ts, event_ts: ts },
  });
}

let triggerSeq = 0;
/** Slack gives every slash command and click its own trigger_id (rekick refuses a repeated one as a replay). */
const nextTriggerId = () => `${++triggerSeq}.${Date.now()}.${Math.random().toString(36).slice(2, 10)}`;

/** The form body of a `/rekick TEXT` slash command. */
export function slashBody(cmd: { user: string; userName?: string; channel: string; text: string; responseUrl: string; team?: string }): string {
  return new URLSearchParams({
    token: 'legacy-unused',
    team_id: cmd.team ?? 'T0REKICK',
    team_domain: 'rekick-test',
    channel_id: cmd.channel,
    channel_name: 'builders',
    user_id: cmd.user,
    user_name: cmd.userName ?? cmd.user.toLowerCase(),
    command: '/rekick',
    text: cmd.text,
    api_app_id: 'A0REKICK',
    response_url: cmd.responseUrl,
    trigger_id: nextTriggerId(),
  }).toString();
}

/** The `payload=` form body of a click on a block_actions button of a message. */
export function clickBody(click: { user: string; userName?: string; channel: string; messageTs: string; actionId: string; value: string; responseUrl: string; team?: string }): string {
  const payload = {
    type: 'block_actions',
    team: { id: click.team ?? 'T0REKICK', domain: 'rekick-test' },
    user: { id: click.user, username: click.userName ?? click.user.toLowerCase(), name: click.userName ?? click.user.toLowerCase(), team_id: click.team ?? 'T0REKICK' },
    api_app_id: 'A0REKICK',
    token: 'legacy-unused',
    container: { type: 'message', message_ts: click.messageTs, channel_id: click.channel, is_ephemeral: false },
    trigger_id: nextTriggerId(),
    channel: { id: click.channel, name: 'builders' },
    message: { type: 'message', ts: click.messageTs, text: 'reinstall', user: BOT_USER_ID, bot_id: BOT_ID },
    response_url: click.responseUrl,
    actions: [{ type: 'button', action_id: click.actionId, block_id: 'rekick_approval', value: click.value, text: { type: 'plain_text', text: 'x' }, action_ts: String(Date.now() / 1000) }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
