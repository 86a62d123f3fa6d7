/**
 * Every refusal the real Slack request guard makes is counted under its own reason: the guard's wording (detail)
 * and the labelling of refusals from outside (src/audit/audit-kind.ts) agree, so none falls to `other`, and a
 * request from another workspace (or naming none) is `foreign-team`.
 */
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { outsideRefusal } from '../../src/audit/audit-kind';
import { createSlackRequestGuard, type SlackRejection } from '../../src/chat/slack/request-guard';

const SECRET = 'guard-reasons-secret';
const NOW = 1_700_000_000_000;

function request(body: string, headers: Record<string, string>): IncomingMessage {
  const req = Readable.from([Buffer.from(body)]) as unknown as IncomingMessage;
  Object.assign(req, { headers: { 'content-type': 'application/json', ...headers }, socket: { remoteAddress: '203.0.113.7' } });
  return req;
}

function response(): { res: ServerResponse; status: () => number | undefined } {
  let status: number | undefined;
  const res = { writeHead: (s: number) => ((status = s), res), end: () => res } as unknown as ServerResponse;
  return { res, status: () => status };
}

function signed(body: string, ts = Math.floor(NOW / 1000), secret = SECRET): Record<string, string> {
  const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig };
}

const event = (id: string, team?: string) =>
  JSON.stringify({ type: 'event_callback', event_id: id, ...(team ? { team_id: team } : {}), event: { type: 'message', user: 'U0KEVIN', channel: 'C0B', text: '!status' } });

describe("the Slack guard's refusals, by reason", () => {
  it('each refusal is labelled with its own reason, none as other', async () => {
    const rejected: SlackRejection[] = [];
    const guard = createSlackRequestGuard({ signingSecret: SECRET, teamId: 'T0REKICK', log: pino({ level: 'silent' }), bodyLimit: 4096, now: () => NOW, onRejected: (e) => void rejected.push(e) });
    const send = async (body: string, headers: Record<string, string>) => {
      const r = response();
      const verdict = await guard(request(body, headers), r.res);
      return { verdict, status: r.status() };
    };
    expect(await send(event('Ev1', 'T0REKICK'), {})).toEqual({ verdict: 'done', status: 401 });
    expect(await send(event('Ev2', 'T0REKICK'), signed(event('Ev2', 'T0REKICK'), Math.floor(NOW / 1000) - 600))).toEqual({ verdict: 'done', status: 401 });
    expect(await send(event('Ev3', 'T0REKICK'), signed(event('Ev3', 'T0REKICK'), undefined, 'not-the-secret'))).toEqual({ verdict: 'done', status: 401 });
    const ok = event('Ev4', 'T0REKICK');
    expect(await send(ok, signed(ok))).toEqual({ verdict: 'pass', status: undefined });
    expect(await send(ok, signed(ok))).toEqual({ verdict: 'done', status: 401 });
    expect(await send(`{"pad":"${'x'.repeat(5000)}"}`, {})).toEqual({ verdict: 'done', status: 413 });
    const other = event('Ev5', 'T0OTHER');
    expect(await send(other, signed(other))).toEqual({ verdict: 'done', status: 200 });
    const none = event('Ev6');
    expect(await send(none, signed(none))).toEqual({ verdict: 'done', status: 200 });

    expect(rejected.map((e) => outsideRefusal(e)?.reason)).toEqual(['unsigned', 'stale', 'bad-signature', 'replay', 'too-large', 'foreign-team', 'foreign-team']);
    expect(rejected.at(-2)!.detail).toMatch(/^other workspace: team T0OTHER, rekick serves T0REKICK/);
    expect(rejected.at(-1)!.detail).toMatch(/^other workspace: no team id, rekick serves T0REKICK/);
    expect(rejected.every((e) => outsideRefusal(e)?.source === 'slack')).toBe(true);
  });
});
