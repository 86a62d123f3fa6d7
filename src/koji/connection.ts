/**
 * One way to the hub for all of the client's calls: sent one at a time (the call number must reach the hub in
 * order), logging in first when needed, retried with the same call number after a lost answer (so the hub can
 * refuse to run a write twice), and renewing an expired session without failing the caller.
 */
import type { Logger } from 'pino';
import type { KojiClientOptions, KojiRetryPolicy } from './client-options';
import { DEFAULT_RETRY } from './client-options';
import { KojiAuthError, KojiAuthExpired, KojiFault, KojiLoginError, KojiProtocolError, KojiRetryError, KojiServerOffline } from './errors';
import { loadHubSettings, type HubSettings } from './hub-settings';
import { HubTransport } from './hub-transport';
import { SerialChain } from '../util/serial-chain';
import { sessionTarget, type Session } from './session';
import { SessionLogin } from './session-login';
import { callTlsFailure } from './tls-errors';
import { encodeArgs, encodeMethodCall, type XmlRpcValue } from './xmlrpc';

export interface CallSpec {
  method: string;
  args: XmlRpcValue[];
  kwargs?: Record<string, XmlRpcValue | undefined>;
  signal?: AbortSignal;
  /** A RetryError means the hub already did it (set for calls that are safe to treat so). */
  doneOnRetryError?: boolean;
}

export class KojiConnection {
  readonly settings: () => HubSettings;
  private readonly transport: HubTransport;
  private readonly sessions: SessionLogin;
  private readonly queue = new SerialChain(); // Koji's call numbers must reach the hub in order
  private closed = false;

  constructor(options: KojiClientOptions, private readonly log: Logger) {
    this.settings = loadHubSettings(options);
    const retry: KojiRetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
    this.transport = new HubTransport({
      settings: this.settings,
      log,
      retry,
      callTimeoutMs: options.callTimeoutMs ?? 60_000,
      random: options.random ?? Math.random,
      onOutage: options.onOutage,
    });
    this.sessions = new SessionLogin(this.transport, this.settings, options, log);
  }

  get hubDown(): boolean {
    return this.transport.outage.isDown;
  }

  checkCredentials(): Promise<void> {
    return this.sessions.checkCredentials();
  }

  /** A whole call: login if needed, retries with the same call number, renewal on AuthExpired. */
  call(spec: CallSpec): Promise<XmlRpcValue> {
    return this.queue.run(() => this.callNow(spec));
  }

  /** Logs out (once); later calls fail. Never throws for a hub that is gone: it logs instead. */
  async close(): Promise<void> {
    if (this.closed) return;
    const session = this.sessions.session;
    if (session) {
      try {
        // koji's logout: no retries; an expired session is as good as logged out
        const bound = Math.min(this.transport.callTimeoutMs, 10_000);
        await this.queue.run(() => this.attempt({ method: 'logout', args: [] }, session, AbortSignal.timeout(bound), session.callnum++));
      } catch (err) {
        if (!(err instanceof KojiAuthExpired)) this.log.warn({ err }, 'Koji logout failed');
      }
    }
    this.closed = true;
    this.sessions.session = undefined;
    this.transport.close();
  }

  private async callNow(spec: CallSpec): Promise<XmlRpcValue> {
    const transport = this.transport;
    const start = Date.now();
    let relogged = false;
    let session = this.sessions.session ?? (await this.sessions.login(spec.signal));
    let callnum = session.callnum++;
    for (let attempt = 1; ; attempt++) {
      transport.throwIfClosedOrAborted(spec.signal);
      try {
        const value = await this.attempt(spec, session, transport.attemptSignal(spec.signal), callnum);
        transport.outage.answered();
        this.log.debug({ method: spec.method, callnum }, 'Koji call done');
        return value;
      } catch (err) {
        transport.throwIfClosedOrAborted(spec.signal);
        if (err instanceof KojiFault && !(err instanceof KojiServerOffline)) {
          transport.outage.answered();
          const invalidSession = err instanceof KojiAuthError && /Invalid session/i.test(err.faultString);
          if ((err instanceof KojiAuthExpired || invalidSession) && !relogged) {
            relogged = true;
            this.log.info({ method: spec.method, reason: err.faultString }, 'Koji session expired; logging in again');
            this.sessions.session = undefined;
            session = await this.sessions.login(spec.signal, err instanceof KojiAuthExpired ? session : undefined);
            callnum = session.callnum++;
            continue;
          }
          if (err instanceof KojiRetryError && spec.doneOnRetryError) {
            this.log.info({ method: spec.method, callnum }, 'Koji had already run this call before the connection broke; counting it as done');
            return null;
          }
          throw err;
        }
        if (err instanceof KojiProtocolError || err instanceof KojiLoginError) throw err;
        const fatal = callTlsFailure(err);
        if (fatal) throw fatal;
        await transport.failed(err, start, attempt, spec.signal);
      }
    }
  }

  /** One HTTP exchange of a call with a given session and call number. */
  private attempt(spec: CallSpec, session: Session, signal: AbortSignal, callnum: number): Promise<XmlRpcValue> {
    const { url } = this.settings();
    const { target, headers } = sessionTarget(url, session, callnum);
    const body = encodeMethodCall(spec.method, encodeArgs(spec.args, spec.kwargs));
    return this.transport.exchange(target, spec.method, body, headers, signal);
  }
}
