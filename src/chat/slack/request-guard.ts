/**
 * The gate in front of Bolt's receiver: every request to the Slack endpoint is checked here first. It must carry
 * a correct signature (`v0=` HMAC-SHA256 of `v0:TS:BODY` with the signing secret) and a timestamp within five
 * minutes of now, and must not be a replay: the same signature again, or an event_id / trigger_id already taken
 * within the window. A Slack retry (`x-slack-retry-num`) of an event already taken is acknowledged (200) and
 * not acted on. With `teamId` set, a signed request from another workspace (or naming none) is refused too,
 * but answered 200 as Slack expects (a 4xx would make Slack retry and flag the app), a slash command with a line
 * for its user. Every refused request is reported through `onRejected`; the others get 401. rekick counts each
 * (`rekick_outside_refusals_total`, by reason: src/audit/audit-kind.ts reads it from the detail's opening words)
 * and logs it at a limited rate, never stores it one by one (src/audit/).
 * The buffered body is left on the request as `rawBody`, where Bolt picks it up instead of reading it again.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuditEntry } from '../../model';

/** What a refused request looked like, ready for the audit log (the caller adds `at`). */
export type SlackRejection = Omit<AuditEntry, 'at'>;

export interface SlackRequestGuardOptions {
  signingSecret: string;
  /** The one workspace (team id) served; requests from any other are refused. */
  teamId?: string;
  log: Logger;
  /** Called for every refused request (bad signature, stale timestamp, replay, workspace): counted, not stored; its failure is logged. */
  onRejected?: (entry: SlackRejection) => void | Promise<void>;
  /** How far a timestamp may be from now, and how long signatures and ids are remembered (default 300 s). */
  windowSec?: number;
  /** Largest body accepted (default 1 MiB). */
  bodyLimit?: number;
  /** Most remembered signatures/ids; the oldest are forgotten past this (default 100,000). */
  maxRemembered?: number;
  now?: () => number;
}

/** `pass`: hand the request to Bolt. `done`: the guard has answered it. */
export type GuardVerdict = 'pass' | 'done';

export type SlackRequestGuard = (req: IncomingMessage, res: ServerResponse) => Promise<GuardVerdict>;

interface Claims {
  user?: string;
  channel?: string;
  eventId?: string;
  triggerId?: string;
  /** The workspace: `team_id` (events, slash commands) or `team.id` (interactions). */
  team?: string;
  kind: string;
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const already = (req as IncomingMessage & { rawBody?: unknown }).rawBody;
  if (Buffer.isBuffer(already)) return already;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge(`body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const safe = (v: unknown): string | undefined => (typeof v === 'string' && SAFE_ID.test(v) ? v : undefined);

/** Who and what a body claims to be (unverified until the signature is checked). Never throws. */
export function slackClaims(body: string, contentType: string | undefined): Claims {
  try {
    let data: Record<string, unknown>;
    if (contentType?.startsWith('application/x-www-form-urlencoded')) {
      const form = new URLSearchParams(body);
      const payload = form.get('payload');
      data = payload ? (JSON.parse(payload) as Record<string, unknown>) : Object.fromEntries(form);
    } else {
      data = JSON.parse(body) as Record<string, unknown>;
    }
    const event = (data.event ?? {}) as Record<string, unknown>;
    const user = data.user as Record<string, unknown> | string | undefined;
    const channel = data.channel as Record<string, unknown> | string | undefined;
    const team = data.team as Record<string, unknown> | string | undefined;
    return {
      kind: safe(data.type) ?? (data.command ? 'slash_command' : 'unknown'),
      eventId: safe(data.event_id),
      triggerId: safe(data.trigger_id),
      user: safe(event.user) ?? safe(data.user_id) ?? safe(typeof user === 'object' ? user?.id : user),
      channel: safe(event.channel) ?? safe(data.channel_id) ?? safe(typeof channel === 'object' ? channel?.id : channel),
      team: safe(data.team_id) ?? safe(typeof team === 'object' ? team?.id : undefined),
    };
  } catch {
    return { kind: 'unparsable' };
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

export function createSlackRequestGuard(options: SlackRequestGuardOptions): SlackRequestGuard {
  const { log } = options;
  const windowMs = (options.windowSec ?? 300) * 1000;
  const limit = options.bodyLimit ?? 1024 * 1024;
  const max = options.maxRemembered ?? 100_000;
  const now = options.now ?? (() => Date.now());
  /** Signatures and ids taken, with when they may be forgotten (ms). */
  const seen = new Map<string, number>();

  const forget = (t: number) => {
    for (const [key, until] of seen) if (until <= t) seen.delete(key);
    for (const key of seen.keys()) {
      if (seen.size <= max) break;
      seen.delete(key);
    }
  };

  const remember = (keys: string[], until: number) => {
    for (const k of keys) seen.set(k, until);
  };

  async function refuse(res: ServerResponse, req: IncomingMessage, claims: Claims, verified: boolean, why: string, status = 401, answer = 'refused\n'): Promise<GuardVerdict> {
    const who = verified && claims.user
      ? { source: 'slack' as const, id: claims.user, display: claims.user }
      : { source: 'slack' as const, id: 'unverified', display: claims.user ? `unverified request claiming ${claims.user}` : 'unverified request' };
    const entry: SlackRejection = {
      who,
      origin: { adapter: 'slack', room: claims.channel ?? 'unknown' },
      action: 'slack-request',
      outcome: 'refused',
      detail: `${why} (${claims.kind}${claims.eventId ? ` ${claims.eventId}` : ''} from ${req.socket.remoteAddress ?? 'unknown address'})`,
    };
    // Not a warning each: anyone can send these; onRejected logs them at a limited rate.
    log.debug({ why, kind: claims.kind, user: claims.user, verified }, 'Slack request refused');
    try {
      await options.onRejected?.(entry);
    } catch (err) {
      log.error({ err }, 'auditing a refused Slack request failed');
    }
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(answer);
    return 'done';
  }

  return async (req, res) => {
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) throw err;
      return refuse(res, req, { kind: 'unknown' }, false, `body too large (over ${limit} bytes)`, 413);
    }
    (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
    const text = body.toString('utf8');
    const claims = slackClaims(text, header(req, 'content-type'));
    // Slack's unsigned SSL check of a slash command URL: answered here, nothing else read from it.
    if (claims.kind === 'unknown' && header(req, 'content-type')?.startsWith('application/x-www-form-urlencoded') && new URLSearchParams(text).get('ssl_check') === '1') {
      res.writeHead(200);
      res.end();
      return 'done';
    }
    const t = now();
    forget(t);

    const signature = header(req, 'x-slack-signature');
    const tsText = header(req, 'x-slack-request-timestamp');
    const ts = tsText && /^\d{1,12}$/.test(tsText) ? Number(tsText) : NaN;
    if (!signature || !Number.isFinite(ts)) return refuse(res, req, claims, false, 'unsigned request (no signature or timestamp)');
    if (Math.abs(t - ts * 1000) > windowMs) {
      return refuse(res, req, claims, false, `stale timestamp (${Math.round((t - ts * 1000) / 1000)} s from now; at most ${windowMs / 1000} s)`);
    }
    const want = Buffer.from(`v0=${createHmac('sha256', options.signingSecret).update(`v0:${tsText}:${text}`).digest('hex')}`);
    const given = Buffer.from(signature);
    if (given.length !== want.length || !timingSafeEqual(given, want)) return refuse(res, req, claims, false, 'bad signature');

    const retry = header(req, 'x-slack-retry-num');
    if (retry !== undefined && claims.eventId && seen.has(`event:${claims.eventId}`)) {
      log.info({ eventId: claims.eventId, retry, reason: header(req, 'x-slack-retry-reason') }, 'Slack retried an event already taken: acknowledged, not acted on');
      res.writeHead(200);
      res.end();
      return 'done';
    }
    if (seen.has(`sig:${signature}`)) return refuse(res, req, claims, true, 'replayed request (same signature, timestamp and body)');
    if (claims.eventId && seen.has(`event:${claims.eventId}`)) return refuse(res, req, claims, true, `replayed event_id ${claims.eventId}`);
    if (claims.triggerId && seen.has(`trigger:${claims.triggerId}`)) return refuse(res, req, claims, true, `replayed trigger_id ${claims.triggerId}`);

    // Remembered until the timestamp can no longer pass, and at least a full window from now.
    const until = Math.max(ts * 1000, t) + windowMs;
    remember([`sig:${signature}`, ...(claims.eventId ? [`event:${claims.eventId}`] : []), ...(claims.triggerId ? [`trigger:${claims.triggerId}`] : [])], until);
    // Slack's URL check names no workspace and carries nothing to act on: Bolt answers its challenge.
    if (options.teamId && claims.team !== options.teamId && claims.kind !== 'url_verification') {
      const answer = claims.kind === 'slash_command' ? 'rekick does not serve this workspace; nothing was done.\n' : '';
      return refuse(res, req, claims, true, `other workspace: ${claims.team ? `team ${claims.team}` : 'no team id'}, rekick serves ${options.teamId}`, 200, answer);
    }
    return 'pass';
  };
}
