/**
 * Slack's HTTP front: one endpoint, /slack/events, for events, the slash command and clicks. Each request's
 * arrival is noted first, other paths and methods are answered plainly, the request guard checks signature,
 * timestamp, replay and workspace, and Bolt's receiver gets the rest. It listens on `slack.host:slack.port`.
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from '../../http/listen';
import type { SlackState } from './state';
import { SLACK_EVENTS_PATH } from './types';

/** The context key (Bolt custom property) carrying when the request reached rekick. */
export const RECEIVED_AT = 'rekickReceivedAt';

/**
 * When a request reached rekick, as Bolt hands it to a handler (context.receivedAt): `!approve all` counts only
 * what was announced by then.
 */
export function arrivedAt(state: SlackState, context: Record<string, unknown>): Date {
  const at = context[RECEIVED_AT];
  return at instanceof Date ? at : state.now();
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(text);
}

async function serve(state: SlackState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  state.arrivals.set(req, state.now());
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  // Nothing but Slack's endpoint here, and no echo of the path asked for.
  if (path !== SLACK_EVENTS_PATH) return plain(res, 404, `not found (Slack's requests go to ${SLACK_EVENTS_PATH})\n`);
  if (req.method !== 'POST') return plain(res, 405, 'POST only\n');
  const current = state.receiver;
  if (!current) return plain(res, 503, 'the Slack adapter is not started\n');
  if ((await state.guard(req, res)) === 'done') return;
  current.requestListener(req, res);
}

/** Slack's endpoint as a request handler; a failure is logged and answered 500. */
export function slackRequestListener(state: SlackState): RequestListener {
  return (req, res) => {
    serve(state, req, res).catch((err: unknown) => {
      state.log.error({ err }, 'Slack request failed');
      if (!res.headersSent) plain(res, 500, 'internal error\n');
      else res.end();
    });
  };
}

/** Listens (E_LISTEN when it cannot); once open, it stays open until stop. */
export async function openReceiver(state: SlackState, requestListener: RequestListener): Promise<void> {
  if (state.server) return;
  const { config, options, log } = state;
  const s = createServer(requestListener);
  await listen(s, config.port, options.listenHost ?? config.host, { what: "Slack's receiver", hostKey: 'slack.host', portKey: 'slack.port' }, log);
  state.server = s;
  log.info({ host: options.listenHost ?? config.host, port: (s.address() as AddressInfo).port }, 'Slack receiver listening (serves /slack/events only)');
}

/** The port listened on (when config.port is 0); 0 when not listening. */
export function receiverPort(state: SlackState): number {
  return state.server ? (state.server.address() as AddressInfo).port : 0;
}
