/**
 * rekick's Koji client: XML-RPC over HTTPS, spoken as koji's own ClientSession speaks it (koji 1.35):
 * - `sslLogin` POSTed to `<server>/ssllogin` with the client certificate (cert and key in one PEM, `koji.cert`),
 *   the hub verified against `koji.serverca`. Koji's documented Apache asks for the certificate only under
 *   /kojihub/ssllogin; under TLS 1.3 that is post-handshake auth, which Node cannot answer. So the login request
 *   goes over its own TLS 1.2 connection, where the hub asks by renegotiating (and a hub that asks at the
 *   handshake gets the certificate there). Later calls use ordinary keep-alive connections without the cert.
 * - the session in headers: `Koji-Session-Id`, `Koji-Session-Key`, `Koji-Session-Callnum` (0 after login,
 *   +1 per HTTP call; a multiCall is one call; a retry after a lost answer resends the same number, so the hub
 *   can refuse to run a write twice); an expired session is renewed (`sslLogin(renew=True)`) and the call
 *   made again, without failing the caller.
 * - or, with `authtype: kerberos`, the same `sslLogin` POSTed to `<server>/ssllogin` with an HTTP
 *   `Authorization: Negotiate` token for HTTP@<hub host>, from rekick's keytab (koji.keytab, koji.principal) or the
 *   ambient credential cache (./kerberos); a fresh token per login, so an expired ticket is replaced from the
 *   keytab when the session is renewed.
 * - keyword arguments as a last struct with `__starstar: true`; faults mapped to typed errors (./errors).
 * - connection failures, timeouts, HTTP 5xx and ServerOffline retried with exponential backoff and jitter,
 *   for up to `retry.maxElapsedMs`; `onOutage` hears 'down' once and 'up' once per outage.
 * - calls are sent one at a time (the call number must reach the hub in order), each attempt bounded by
 *   `callTimeoutMs`, the whole call by the caller's AbortSignal.
 * Never logged: the session key, the certificate or its key.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import pino from 'pino';
import { CancelledError } from '../errors';
import { abortableSleep } from '../util/sleep';
import {
  KojiAuthError,
  KojiAuthExpired,
  KojiError,
  KojiFault,
  KojiLoginError,
  KojiProtocolError,
  KojiRetryError,
  KojiServerOffline,
  KojiUnreachableError,
  faultToError,
} from './errors';
import { KerberosLoginError, NegotiateTokenSource, type KerberosBinding } from './kerberos';
import { OutageTracker, type KojiOutageEvent } from './outage';
import { readKojiProfile, type ProfilePaths } from './profile';
import { classifyError, describeError, postXml, type HttpAnswer } from './http-post';
import type { KojiCallOptions, KojiClient, KojiHost, KojiTask } from './types';
import { TASK_STATES } from './types';
import {
  XmlRpcFault,
  XmlRpcParseError,
  encodeArgs,
  encodeMethodCall,
  isStruct,
  type XmlRpcValue,
} from './xmlrpc';
import { decodeMethodResponse } from './xmlrpc';

export type { KojiOutageEvent } from './outage';

export interface KojiRetryPolicy {
  /** First wait after a failure (ms). */
  baseMs: number;
  /** Longest wait between attempts (ms). */
  maxMs: number;
  /** Random spread of each wait, 0..1 (0.5: between 50% and 100% of the computed wait). */
  jitter: number;
  /** How long one call keeps retrying before it fails with KojiUnreachableError (ms). */
  maxElapsedMs: number;
  /** Consecutive failed attempts before onOutage hears 'down'. */
  failuresBeforeDown: number;
}

export interface KojiClientOptions {
  /** The hub's XML-RPC endpoint, e.g. https://koji.example.org/kojihub (koji's `server`). */
  server?: string;
  /** Path of the client certificate and its key in one PEM (koji's `cert`). */
  cert?: string;
  /** Path of the CA that signed the hub's certificate (koji's `serverca`); default: the system's CAs. */
  serverca?: string;
  /** PEM contents instead of paths (tests, the lab). */
  certPem?: string;
  servercaPem?: string;
  /** Read server/cert/serverca from this koji CLI profile for what is not given here. */
  profile?: string;
  profilePaths?: ProfilePaths;
  /** ssl (client certificate) or kerberos (Negotiate); default: the profile's, else ssl. */
  authtype?: 'ssl' | 'kerberos';
  /** kerberos: rekick's principal (koji's `principal`); default: the keytab's first, or the ccache's. */
  principal?: string;
  /** kerberos: rekick's keytab (koji's `keytab`); without it the ambient credential cache (kinit) is used. */
  keytab?: string;
  /** kerberos: credential cache (default: a private in-memory one when a keytab is given). */
  ccache?: string;
  /** kerberos: KRB5_CONFIG for this client (default: the process's, /etc/krb5.conf). */
  krb5Config?: string;
  /** kerberos: the GSSAPI binding (default: the `kerberos` package; tests). */
  kerberosBinding?: () => Promise<KerberosBinding>;
  log?: Logger;
  onOutage?: (event: KojiOutageEvent) => void;
  /** Bound of one HTTP attempt (ms, default 60 s, like koji's auth_timeout). */
  callTimeoutMs?: number;
  retry?: Partial<KojiRetryPolicy>;
  /** Randomness for the jitter (tests). */
  random?: () => number;
  /** Highest TLS version for the login connection (default TLSv1.2: see above). */
  loginMaxTlsVersion?: 'TLSv1.2' | 'TLSv1.3';
  // Parts of rekick's koji config that the client does not use (the config is passed as is).
  weburl?: string;
  minEnabled?: Record<string, number>;
  pollInterval?: number;
}

export interface MultiCallRequest {
  method: string;
  args?: XmlRpcValue[];
  kwargs?: Record<string, XmlRpcValue | undefined>;
}

export type MultiCallResult = { ok: true; value: XmlRpcValue } | { ok: false; error: KojiFault };

export interface KojiUser {
  id: number;
  name: string;
  status: number;
  usertype: number;
  authtype?: number;
  [key: string]: unknown;
}

interface Session {
  id: number;
  key: string;
  headerAuth: boolean;
  /** The number the next call carries. */
  callnum: number;
}

interface CallSpec {
  method: string;
  args: XmlRpcValue[];
  kwargs?: Record<string, XmlRpcValue | undefined>;
  signal?: AbortSignal;
  /** A RetryError means the hub already did it (set for calls that are safe to treat so). */
  doneOnRetryError?: boolean;
}

const DEFAULT_RETRY: KojiRetryPolicy = { baseMs: 1_000, maxMs: 60_000, jitter: 0.5, maxElapsedMs: 30 * 60_000, failuresBeforeDown: 2 };

/** Koji's hub returns struct members we type; anything else is a protocol problem. */
function toHost(v: XmlRpcValue): KojiHost {
  if (!isStruct(v) || typeof v.id !== 'number' || typeof v.name !== 'string') {
    throw new KojiProtocolError(`the hub returned a host in an unexpected shape: ${JSON.stringify(v)?.slice(0, 200)}`);
  }
  return {
    id: v.id,
    name: v.name,
    arches: String(v.arches ?? ''),
    enabled: Boolean(v.enabled),
    ready: Boolean(v.ready),
    comment: typeof v.comment === 'string' ? v.comment : null,
    description: typeof v.description === 'string' ? v.description : null,
    task_load: typeof v.task_load === 'number' ? v.task_load : undefined,
    capacity: typeof v.capacity === 'number' ? v.capacity : undefined,
  };
}

function toTask(v: XmlRpcValue): KojiTask {
  if (!isStruct(v) || typeof v.id !== 'number') {
    throw new KojiProtocolError(`the hub returned a task in an unexpected shape: ${JSON.stringify(v)?.slice(0, 200)}`);
  }
  return {
    id: v.id,
    method: String(v.method ?? ''),
    state: Number(v.state),
    host_id: typeof v.host_id === 'number' ? v.host_id : null,
    create_time: typeof v.create_time === 'string' ? v.create_time : undefined,
    start_time: typeof v.start_time === 'string' ? v.start_time : null,
    owner_name: typeof v.owner_name === 'string' ? v.owner_name : undefined,
    arch: typeof v.arch === 'string' ? v.arch : undefined,
  };
}


interface Resolved {
  url: URL;
  certPath?: string;
  certPem?: string;
  ca?: string;
  authtype: 'ssl' | 'kerberos';
  principal?: string;
  keytab?: string;
}

/** A promise chain that runs one task at a time, in order. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export class KojiXmlRpcClient implements KojiClient {
  private readonly log: Logger;
  private readonly retry: KojiRetryPolicy;
  private readonly callTimeoutMs: number;
  private readonly random: () => number;
  private readonly outage: OutageTracker;
  private readonly queue = new SerialQueue();
  private resolved?: Resolved;
  private negotiate?: NegotiateTokenSource;
  private callAgent?: http.Agent;
  private session?: Session;
  private loggingIn?: Promise<Session>;
  private closed = false;

  constructor(private readonly options: KojiClientOptions) {
    this.log = options.log ?? pino({ level: 'silent' });
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.callTimeoutMs = options.callTimeoutMs ?? 60_000;
    this.random = options.random ?? Math.random;
    this.outage = new OutageTracker(
      (e) => {
        if (e.state === 'down') this.log.warn({ err: e.error }, 'Koji hub unreachable');
        else this.log.info({ since: e.since }, 'Koji hub answers again');
        options.onOutage?.(e);
      },
      this.retry.failuresBeforeDown,
      (err) => this.log.error({ err }, 'onOutage listener failed'),
    );
  }

  /** Whether the last calls failed to reach the hub (an outage is under way). */
  get hubDown(): boolean {
    return this.outage.isDown;
  }

  // ---- KojiClient ----

  async getHost(name: string, opts: KojiCallOptions = {}): Promise<KojiHost | null> {
    const v = await this.call({ method: 'getHost', args: [name], signal: opts.signal });
    return v === null ? null : toHost(v);
  }

  async listHosts(opts: { enabled?: boolean; arches?: string[]; channelID?: number } & KojiCallOptions = {}): Promise<KojiHost[]> {
    const v = await this.call({
      method: 'listHosts',
      args: [],
      kwargs: { arches: opts.arches, channelID: opts.channelID, enabled: opts.enabled },
      signal: opts.signal,
    });
    if (!Array.isArray(v)) throw new KojiProtocolError('listHosts did not return a list');
    return v.map(toHost);
  }

  async disableHost(name: string, opts: { comment?: string } & KojiCallOptions = {}): Promise<void> {
    await this.setEnabled('disableHost', name, opts);
  }

  async enableHost(name: string, opts: { comment?: string } & KojiCallOptions = {}): Promise<void> {
    await this.setEnabled('enableHost', name, opts);
  }

  async setHostComment(name: string, comment: string, opts: KojiCallOptions = {}): Promise<void> {
    await this.call({ method: 'editHost', args: [name], kwargs: { comment }, signal: opts.signal, doneOnRetryError: true });
  }

  async listOpenTasks(hostId: number, opts: KojiCallOptions = {}): Promise<KojiTask[]> {
    const v = await this.call({
      method: 'listTasks',
      // listTasks(opts, queryOpts), both positional, as the koji CLI's list-tasks sends them
      args: [{ state: [TASK_STATES.OPEN, TASK_STATES.ASSIGNED], host_id: hostId }, { order: 'priority,create_time' }],
      signal: opts.signal,
    });
    if (!Array.isArray(v)) throw new KojiProtocolError('listTasks did not return a list');
    return v.map(toTask);
  }

  /** How many OPEN/ASSIGNED tasks the host has (listTasks with queryOpts countOnly). */
  async countOpenTasks(hostId: number, opts: KojiCallOptions = {}): Promise<number> {
    const v = await this.call({
      method: 'listTasks',
      args: [{ state: [TASK_STATES.OPEN, TASK_STATES.ASSIGNED], host_id: hostId }, { countOnly: true }],
      signal: opts.signal,
    });
    return Number(v);
  }

  async freeTask(taskId: number, opts: KojiCallOptions = {}): Promise<void> {
    await this.call({ method: 'freeTask', args: [taskId], signal: opts.signal, doneOnRetryError: true });
  }

  /** Logs out (once); later calls fail. Never throws for a hub that is gone: it logs instead. */
  async close(): Promise<void> {
    if (this.closed) return;
    const session = this.session;
    if (session) {
      try {
        // koji's logout: no retries; an expired session is as good as logged out
        await this.queue.run(() => this.attempt({ method: 'logout', args: [] }, session, AbortSignal.timeout(Math.min(this.callTimeoutMs, 10_000))));
      } catch (err) {
        if (!(err instanceof KojiAuthExpired)) this.log.warn({ err }, 'Koji logout failed');
      }
    }
    this.closed = true;
    this.session = undefined;
    this.callAgent?.destroy();
  }

  // ---- more of Koji's API ----

  /** getLoggedInUser: who rekick is on the hub (null when not logged in). */
  async whoami(opts: KojiCallOptions = {}): Promise<KojiUser | null> {
    return (await this.call({ method: 'getLoggedInUser', args: [], signal: opts.signal })) as KojiUser | null;
  }

  /** getPerms: the permissions of rekick's user (e.g. ['host']). */
  async getPerms(opts: KojiCallOptions = {}): Promise<string[]> {
    const v = await this.call({ method: 'getPerms', args: [], signal: opts.signal });
    return Array.isArray(v) ? v.map(String) : [];
  }

  async getAPIVersion(opts: KojiCallOptions = {}): Promise<number> {
    return Number(await this.call({ method: 'getAPIVersion', args: [], signal: opts.signal }));
  }

  /** Any hub method, by its Koji name. */
  callMethod(method: string, args: XmlRpcValue[] = [], kwargs?: Record<string, XmlRpcValue | undefined>, opts: KojiCallOptions = {}): Promise<XmlRpcValue> {
    return this.call({ method, args, kwargs, signal: opts.signal });
  }

  /**
   * Koji's multiCall: one HTTP call (one call number), each call succeeding or failing on its own (not atomic):
   * every result is returned, in order.
   */
  async multiCall(calls: MultiCallRequest[], opts: KojiCallOptions = {}): Promise<MultiCallResult[]> {
    if (calls.length === 0) return [];
    const v = await this.call({
      method: 'multiCall',
      args: [calls.map((c) => ({ methodName: c.method, params: encodeArgs(c.args ?? [], c.kwargs) }))],
      signal: opts.signal,
    });
    if (!Array.isArray(v) || v.length !== calls.length) throw new KojiProtocolError(`multiCall returned ${Array.isArray(v) ? v.length : 'no'} results for ${calls.length} calls`);
    return v.map((r, i) => {
      if (Array.isArray(r)) return { ok: true as const, value: r[0] ?? null };
      if (isStruct(r) && typeof r.faultCode === 'number') return { ok: false as const, error: faultToError(r.faultCode, String(r.faultString ?? ''), calls[i]!.method) };
      throw new KojiProtocolError(`multiCall result ${i} has an unexpected shape`);
    });
  }

  // ---- internals ----

  private async setEnabled(method: 'enableHost' | 'disableHost', name: string, opts: { comment?: string } & KojiCallOptions): Promise<void> {
    if (opts.comment === undefined) {
      await this.call({ method, args: [name], signal: opts.signal, doneOnRetryError: true });
      return;
    }
    const results = await this.multiCall(
      [
        { method, args: [name] },
        { method: 'editHost', args: [name], kwargs: { comment: opts.comment } },
      ],
      opts,
    );
    const failed = results.find((r): r is { ok: false; error: KojiFault } => !r.ok);
    if (failed) throw failed.error;
  }

  private resolve(): Resolved {
    if (this.resolved) return this.resolved;
    const o = this.options;
    let server = o.server;
    let certPath = o.cert;
    let servercaPath = o.serverca;
    let authtypeText: string | undefined = o.authtype;
    let principal = o.principal;
    let keytab = o.keytab;
    if (o.profile && (!server || (!certPath && !o.certPem) || (!servercaPath && !o.servercaPem))) {
      const p = readKojiProfile(o.profile, o.profilePaths);
      server ??= p.server;
      certPath ??= p.cert;
      servercaPath ??= p.serverca;
      authtypeText ??= p.authtype;
      principal ??= p.principal;
      keytab ??= p.keytab;
    }
    if (authtypeText !== undefined && authtypeText !== 'ssl' && authtypeText !== 'kerberos') {
      throw new KojiLoginError(`Koji authtype "${authtypeText}" is not supported by rekick: use ssl (a client certificate) or kerberos (a keytab)`);
    }
    // koji's own rule, narrowed: ssl with a certificate; kerberos when a principal or keytab is all there is
    const authtype: 'ssl' | 'kerberos' = (authtypeText as 'ssl' | 'kerberos' | undefined) ?? (!certPath && !o.certPem && (principal || keytab) ? 'kerberos' : 'ssl');
    if (!server) throw new KojiLoginError('no Koji hub configured: set koji.server (or koji.profile)');
    let url: URL;
    try {
      url = new URL(server.replace(/\/+$/, ''));
    } catch (err) {
      throw new KojiLoginError(`koji.server "${server}" is not a URL: write it like https://koji.example.org/kojihub`, { cause: err });
    }
    let ca: string | undefined = o.servercaPem;
    if (!ca && servercaPath) {
      try {
        ca = readFileSync(servercaPath, 'utf8');
      } catch (err) {
        throw new KojiLoginError(`cannot read koji.serverca ${servercaPath}: ${describeError(err)}; point it at the CA certificate that signed the hub's certificate`, { cause: err });
      }
    }
    this.resolved = { url, certPath, certPem: o.certPem, ca, authtype, principal, keytab };
    return this.resolved;
  }

  private agentForCalls(): http.Agent {
    if (!this.callAgent) {
      const { url, ca } = this.resolve();
      this.callAgent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true, ca, maxSockets: 1 }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
    }
    return this.callAgent;
  }

  /** The client certificate, checked before the hub sees it: readable, with its key, in its validity. */
  private clientPem(): string {
    const { certPath, certPem } = this.resolve();
    let pem = certPem;
    const where = certPath ?? 'the client certificate';
    if (!pem) {
      if (!certPath) throw new KojiLoginError('no client certificate: set koji.cert to a PEM holding rekick\'s certificate and key');
      try {
        pem = readFileSync(certPath, 'utf8');
      } catch (err) {
        throw new KojiLoginError(`cannot read koji.cert ${certPath}: ${describeError(err)}`, { cause: err });
      }
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
      createPrivateKey(pem);
    } catch (err) {
      throw new KojiLoginError(`${where} must hold both the certificate and its private key (PEM, unencrypted): ${describeError(err)}`, { cause: err });
    }
    const now = Date.now();
    const cn = /CN=([^\n,]+)/.exec(cert.subject)?.[1] ?? cert.subject;
    if (Date.parse(cert.validTo) < now) {
      throw new KojiLoginError(`rekick's client certificate ${where} (CN=${cn}) expired on ${new Date(cert.validTo).toISOString()}: issue a new one from the CA the hub trusts`);
    }
    if (Date.parse(cert.validFrom) > now) {
      throw new KojiLoginError(`rekick's client certificate ${where} (CN=${cn}) is not valid before ${new Date(cert.validFrom).toISOString()}: check this machine's clock`);
    }
    return pem;
  }

  /** How rekick logs in: 'ssl' or 'kerberos' (from the options and the koji profile). */
  get authtype(): 'ssl' | 'kerberos' {
    return this.resolve().authtype;
  }

  /**
   * Checks rekick's Koji credentials without calling the hub: for ssl the certificate (readable, with its key, in
   * its validity); for kerberos the GSSAPI binding, the keytab (a keytab holding koji.principal), and a ticket for
   * the hub's service from the KDC. Throws KojiLoginError saying what to fix. Call it at start.
   */
  async checkCredentials(): Promise<void> {
    const r = this.resolve();
    if (r.authtype === 'ssl') {
      this.clientPem();
      return;
    }
    const source = this.negotiateSource();
    await source.check();
    await source.token(r.url.hostname);
  }

  private negotiateSource(): NegotiateTokenSource {
    if (!this.negotiate) {
      const r = this.resolve();
      this.negotiate = new NegotiateTokenSource({
        principal: r.principal,
        keytab: r.keytab,
        ccache: this.options.ccache,
        krb5Config: this.options.krb5Config,
        binding: this.options.kerberosBinding,
        log: this.log,
      });
    }
    return this.negotiate;
  }

  private sessionHeaders(s: Session, callnum: number): Record<string, string> {
    return s.headerAuth
      ? { 'Koji-Session-Id': String(s.id), 'Koji-Session-Key': s.key, 'Koji-Session-Callnum': String(callnum) }
      : {};
  }

  /** Logs in (or renews `old`); one login at a time, shared by concurrent callers. */
  private login(signal?: AbortSignal, old?: Session): Promise<Session> {
    this.loggingIn ??= this.doLogin(signal, old).finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  private async doLogin(signal: AbortSignal | undefined, old: Session | undefined): Promise<Session> {
    const { url, ca, authtype } = this.resolve();
    const kerberos = authtype === 'kerberos';
    const pem = kerberos ? undefined : this.clientPem();
    const loginUrl = new URL(`${url.href.replace(/\/+$/, '')}/ssllogin`);
    const start = Date.now();
    let renew = old;
    for (let attempt = 1; ; attempt++) {
      this.throwIfClosedOrAborted(signal);
      const callnum = renew ? renew.callnum++ : 0;
      const headers = renew ? this.sessionHeaders(renew, callnum) : {};
      if (kerberos) {
        // a new token per attempt: the hub refuses a replayed one; an expired ticket is replaced from the keytab here
        try {
          headers.Authorization = `Negotiate ${await this.negotiateSource().token(url.hostname)}`;
        } catch (err) {
          if (err instanceof KerberosLoginError && err.transient) {
            await this.transportFailed(err, start, attempt, signal);
            continue;
          }
          throw err;
        }
      }
      const body = encodeMethodCall('sslLogin', encodeArgs([], renew ? { renew: true } : undefined));
      // a fresh connection each time: the hub asks for the certificate by renegotiating it
      const agent =
        url.protocol !== 'https:'
          ? new http.Agent({ keepAlive: false })
          : kerberos
            ? new https.Agent({ keepAlive: false, ca })
            : new https.Agent({ keepAlive: false, ca, cert: pem, key: pem, maxVersion: this.options.loginMaxTlsVersion ?? 'TLSv1.2' });
      let answer: HttpAnswer;
      try {
        answer = await postXml(loginUrl, body, { agent, headers, signal: this.attemptSignal(signal) });
      } catch (err) {
        this.throwIfClosedOrAborted(signal);
        const kind = classifyError(err);
        if (kind === 'server-cert') throw this.serverCertError(err);
        if (kind === 'tls-version') {
          throw new KojiLoginError(
            `the hub does not accept rekick's TLS version for the login (${describeError(err)}): rekick logs in over TLS 1.2 because Node cannot answer TLS 1.3 post-handshake certificate requests; allow TLS 1.2 for /kojihub/ssllogin on the hub`,
            { cause: err },
          );
        }
        if (kind === 'tls-other') throw this.tlsError(err);
        if (kind === 'tls-alert') {
          throw new KojiLoginError(
            `the hub refused rekick's client certificate during the TLS handshake (${describeError(err)}): check that koji.cert is signed by a CA the hub trusts and has not expired`,
            { cause: err },
          );
        }
        await this.transportFailed(err, start, attempt, signal);
        continue;
      } finally {
        agent.destroy();
      }
      if (kerberos && (answer.status === 401 || answer.status === 403)) {
        this.outage.answered();
        const reason = answer.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
        throw new KojiLoginError(
          `the hub refused rekick's Kerberos credentials at ${loginUrl.pathname} (HTTP ${answer.status}${reason ? `: ${reason}` : ''}): ` +
            `check that the hub accepts Negotiate at /kojihub/ssllogin for HTTP/${url.hostname} (its keytab) and trusts rekick's realm`,
        );
      }
      if (answer.status === 403) {
        this.outage.answered();
        const reason = answer.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
        throw new KojiLoginError(
          `the hub refused rekick's client certificate at ${loginUrl.pathname} (HTTP 403${reason ? `: ${reason}` : ''}): ` +
            'check that koji.cert is signed by the CA the hub trusts and has not expired; ' +
            'a hub that asks for certificates only under TLS 1.3 post-handshake auth must also allow TLS 1.2 for /kojihub/ssllogin',
        );
      }
      let value: XmlRpcValue;
      try {
        value = await this.readAnswer(answer, 'sslLogin', loginUrl);
      } catch (err) {
        if (err instanceof KojiUnreachableError) {
          await this.transportFailed(err, start, attempt, signal);
          continue;
        }
        if (renew && err instanceof KojiFault && !(err instanceof KojiServerOffline)) {
          // the old session cannot be renewed (closed, purged): a new session does as well
          this.log.info({ fault: err.faultCode }, 'Koji session renewal refused; logging in afresh');
          renew = undefined;
          continue;
        }
        if (err instanceof KojiServerOffline) {
          await this.transportFailed(err, start, attempt, signal);
          continue;
        }
        throw err;
      }
      this.outage.answered();
      if (!isStruct(value) || value['session-id'] === undefined || typeof value['session-key'] !== 'string') {
        throw new KojiLoginError(`sslLogin at ${loginUrl.href} did not return a session; is koji.server the hub's XML-RPC endpoint (…/kojihub)?`);
      }
      const id = Number(value['session-id']);
      const session: Session = {
        id,
        key: value['session-key'],
        headerAuth: value['header-auth'] === true,
        // a renewed session keeps its id: keep counting up, the hub remembers the last number it stored
        callnum: renew && renew.id === id ? renew.callnum : 0,
      };
      this.session = session;
      this.log.info({ session: id, renewed: Boolean(renew) }, 'logged in to Koji');
      return session;
    }
  }

  private serverCertError(err: unknown): KojiLoginError {
    return new KojiLoginError(
      `rekick does not trust the hub's certificate (${describeError(err)}): set koji.serverca to the CA that signed it, and make koji.server use the name in the certificate`,
      { cause: err },
    );
  }

  private tlsError(err: unknown): KojiProtocolError {
    return new KojiProtocolError(`TLS with the hub failed (${describeError(err)}): check that koji.server names the hub's HTTPS address and port`, { cause: err });
  }

  private attemptSignal(caller?: AbortSignal): AbortSignal {
    const t = AbortSignal.timeout(this.callTimeoutMs);
    return caller ? AbortSignal.any([caller, t]) : t;
  }

  private throwIfClosedOrAborted(signal?: AbortSignal): void {
    if (this.closed) throw new KojiError('E_KOJI_CLOSED', 'the Koji client was closed (rekick is shutting down)');
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError();
  }

  /** Counts a failed attempt, waits the backoff, or throws when the call has tried long enough. */
  private async transportFailed(err: unknown, start: number, attempt: number, signal?: AbortSignal): Promise<void> {
    const { url } = this.resolve();
    const error = err instanceof Error ? err : new Error(String(err));
    this.outage.failed(error);
    const elapsed = Date.now() - start;
    if (elapsed >= this.retry.maxElapsedMs) {
      throw err instanceof KojiError ? err : new KojiUnreachableError(url.origin + url.pathname, describeError(err), { cause: err });
    }
    const exp = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** Math.min(attempt - 1, 30));
    const wait = Math.min(exp * (1 - this.retry.jitter * this.random()), Math.max(0, this.retry.maxElapsedMs - elapsed));
    this.log.debug({ attempt, waitMs: Math.round(wait), error: describeError(err) }, 'Koji call failed; retrying');
    try {
      await abortableSleep(wait, signal);
    } catch (reason) {
      throw reason instanceof Error ? reason : new CancelledError();
    }
  }

  /** Turns an HTTP answer into a value, a typed fault, KojiUnreachableError (5xx) or KojiProtocolError. */
  private async readAnswer(answer: HttpAnswer, method: string, url: URL): Promise<XmlRpcValue> {
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

  /** One HTTP exchange of a call with a given session and call number. */
  private async attempt(spec: CallSpec, session: Session | undefined, signal: AbortSignal, callnum?: number): Promise<XmlRpcValue> {
    const { url } = this.resolve();
    let target = url;
    let headers: Record<string, string> = {};
    if (session) {
      const n = callnum ?? session.callnum++;
      if (session.headerAuth) headers = this.sessionHeaders(session, n);
      else {
        // hubs before 1.30: the session in the query string
        target = new URL(url.href);
        target.search = new URLSearchParams({ 'session-id': String(session.id), 'session-key': session.key, callnum: String(n) }).toString();
      }
    }
    const body = encodeMethodCall(spec.method, encodeArgs(spec.args, spec.kwargs));
    const answer = await postXml(target, body, { agent: this.agentForCalls(), headers, signal });
    return this.readAnswer(answer, spec.method, url);
  }

  /** A whole call: login if needed, retries with the same call number, renewal on AuthExpired. */
  private call(spec: CallSpec): Promise<XmlRpcValue> {
    return this.queue.run(async () => {
      const start = Date.now();
      let relogged = false;
      let session = this.session ?? (await this.login(spec.signal));
      let callnum = session.callnum++;
      for (let attempt = 1; ; attempt++) {
        this.throwIfClosedOrAborted(spec.signal);
        try {
          const value = await this.attempt(spec, session, this.attemptSignal(spec.signal), callnum);
          this.outage.answered();
          this.log.debug({ method: spec.method, callnum }, 'Koji call done');
          return value;
        } catch (err) {
          this.throwIfClosedOrAborted(spec.signal);
          if (err instanceof KojiFault && !(err instanceof KojiServerOffline)) {
            this.outage.answered();
            const invalidSession = err instanceof KojiAuthError && /Invalid session/i.test(err.faultString);
            if ((err instanceof KojiAuthExpired || invalidSession) && !relogged) {
              relogged = true;
              this.log.info({ method: spec.method, reason: err.faultString }, 'Koji session expired; logging in again');
              this.session = undefined;
              session = await this.login(spec.signal, err instanceof KojiAuthExpired ? session : undefined);
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
          const kind = classifyError(err);
          if (kind === 'server-cert') throw this.serverCertError(err);
          if (kind === 'tls-other' || kind === 'tls-version') throw this.tlsError(err);
          await this.transportFailed(err, start, attempt, spec.signal);
        }
      }
    });
  }
}

/** Creates the client; nothing is read or sent until the first call. */
export function createKojiClient(options: KojiClientOptions): KojiXmlRpcClient {
  return new KojiXmlRpcClient(options);
}
