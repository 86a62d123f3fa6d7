/**
 * The retrying half of the client: each attempt bounded by `callTimeoutMs` (and the caller's signal), failures
 * counted into outages and waited out with exponential backoff and jitter for up to `retry.maxElapsedMs`, and
 * an HTTP answer turned into a value or a typed error. Calls share one keep-alive connection.
 */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { CancelledError } from '../errors';
import { abortableSleep } from '../util/sleep';
import type { KojiClientOptions, KojiRetryPolicy } from './client-options';
import { KojiError, KojiProtocolError, KojiUnreachableError, faultToError } from './errors';
import type { HubSettings } from './hub-settings';
import { describeError, postXml, type HttpAnswer } from './http-post';
import { OutageTracker } from './outage';
import { XmlRpcFault, XmlRpcParseError, decodeMethodResponse, type XmlRpcValue } from './xmlrpc';

export interface HubTransportOptions {
  settings: () => HubSettings;
  log: Logger;
  retry: KojiRetryPolicy;
  callTimeoutMs: number;
  random: () => number;
  onOutage?: KojiClientOptions['onOutage'];
}

export class HubTransport {
  readonly outage: OutageTracker;
  readonly callTimeoutMs: number;
  private callAgent?: http.Agent;
  private closed = false;

  constructor(private readonly o: HubTransportOptions) {
    this.callTimeoutMs = o.callTimeoutMs;
    this.outage = new OutageTracker(
      (e) => {
        if (e.state === 'down') o.log.warn({ err: e.error }, 'Koji hub unreachable');
        else o.log.info({ since: e.since }, 'Koji hub answers again');
        o.onOutage?.(e);
      },
      o.retry.failuresBeforeDown,
      (err) => o.log.error({ err }, 'onOutage listener failed'),
    );
  }

  /** One HTTP exchange of a call over the shared keep-alive connection: the value, or a typed error. */
  async exchange(target: URL, method: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<XmlRpcValue> {
    const answer = await postXml(target, body, { agent: this.agentForCalls(), headers, signal });
    return readAnswer(answer, method, this.o.settings().url);
  }

  /** The bound of one attempt: `callTimeoutMs`, or the caller's signal if it fires first. */
  attemptSignal(caller?: AbortSignal): AbortSignal {
    const t = AbortSignal.timeout(this.callTimeoutMs);
    return caller ? AbortSignal.any([caller, t]) : t;
  }

  throwIfClosedOrAborted(signal?: AbortSignal): void {
    if (this.closed) throw new KojiError('E_KOJI_CLOSED', 'the Koji client was closed (rekick is shutting down)');
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError();
  }

  /** Counts a failed attempt, waits the backoff, or throws when the call has tried long enough. */
  async failed(err: unknown, start: number, attempt: number, signal?: AbortSignal): Promise<void> {
    const { url } = this.o.settings();
    const { retry, log } = this.o;
    const error = err instanceof Error ? err : new Error(String(err));
    this.outage.failed(error);
    const elapsed = Date.now() - start;
    if (elapsed >= retry.maxElapsedMs) {
      throw err instanceof KojiError ? err : new KojiUnreachableError(url.origin + url.pathname, describeError(err), { cause: err });
    }
    const wait = backoffMs(retry, attempt, elapsed, this.o.random());
    log.debug({ attempt, waitMs: Math.round(wait), error: describeError(err) }, 'Koji call failed; retrying');
    try {
      await abortableSleep(wait, signal);
    } catch (reason) {
      throw reason instanceof Error ? reason : new CancelledError();
    }
  }

  /** Later calls fail with E_KOJI_CLOSED; the connection is dropped. */
  close(): void {
    this.closed = true;
    this.callAgent?.destroy();
  }

  private agentForCalls(): http.Agent {
    if (!this.callAgent) {
      const { url, ca } = this.o.settings();
      this.callAgent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true, ca, maxSockets: 1 }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
    }
    return this.callAgent;
  }
}

/** The wait before the next attempt: exponential from `baseMs`, capped at `maxMs`, jittered, never past the deadline. */
export function backoffMs(retry: KojiRetryPolicy, attempt: number, elapsedMs: number, random: number): number {
  const exp = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.min(exp * (1 - retry.jitter * random), Math.max(0, retry.maxElapsedMs - elapsedMs));
}

/** Turns an HTTP answer into a value, a typed fault, KojiUnreachableError (5xx) or KojiProtocolError. */
export async function readAnswer(answer: HttpAnswer, method: string, url: URL): Promise<XmlRpcValue> {
  if (answer.status >= 500) {
    throw new KojiUnreachableError(url.origin + url.pathname, `HTTP ${answer.status}`);
  }
  if (answer.status !== 200) {
    throw new KojiProtocolError(
      `Koji hub answered HTTP ${answer.status} to ${method} at ${url.origin}${url.pathname}: check koji.server (it is the XML-RPC endpoint, e.g. https://koji.example.org/kojihub)`,
      { status: answer.status },
    );
  }
  try {
    return await decodeMethodResponse(answer.text);
  } catch (err) {
    if (err instanceof XmlRpcFault) throw faultToError(err.faultCode, err.faultString, method);
    if (err instanceof XmlRpcParseError) {
      throw new KojiProtocolError(`${url.origin}${url.pathname} did not answer XML-RPC to ${method}: check koji.server`, { cause: err });
    }
    throw err;
  }
}
