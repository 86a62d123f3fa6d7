/**
 * A Koji hub stand-in for tests and the lab: a real XML-RPC server over HTTPS on loopback, set up like Koji's
 * documented Apache (client certificate or Negotiate only at /kojihub/ssllogin: ./hub-login-auth), with Koji's
 * session rules (./hub-session) and methods (./hub-methods). The handle (./hub-api) lets tests change its state,
 * slow it down, make it fail, and stop and restart it on the same port.
 */
import { constants as cryptoConstants } from 'node:crypto';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import pino from 'pino';
import { decodeMethodCall, encodeMethodResponse, type XmlRpcValue } from '../../src';
import type { FailureMode, HubCallRecord, HubStandin, HubStandinOptions } from './hub-api';
import { asFault, dispatch, isMultiCall, multiCall, requireKnownMethod } from './hub-dispatch';
import { KOJI_VERSION_HEADER, readBody, sendFault, sendPlain } from './hub-http';
import { HubKerberos } from './hub-kerberos';
import type { CallContext } from './hub-methods';
import { isRefusal, loginLocationAuth, type LoginIdentity } from './hub-login-auth';
import { openSession } from './hub-session';
import { FAULT, HubState, type HubHost, type HubTask, type HubUser } from './hub-state';

export type { HubStandin, HubStandinOptions } from './hub-api';

const NO_RESUME_ON_RENEGOTIATION = cryptoConstants.SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION;

export async function startHubStandin(options: HubStandinOptions): Promise<HubStandin> {
  const hub = new KojiHubStandin(options);
  await hub.start();
  return hub;
}

/** The state a hub starts with: the options' users (with their Kerberos principals), channels and hosts. */
function seedState(options: HubStandinOptions, kerberos: HubKerberos | undefined): HubState {
  const state = options.state ?? new HubState();
  for (const u of options.users ?? []) state.addUser(u.name, u.perms ?? [], { blocked: u.blocked });
  for (const u of options.users ?? []) {
    for (const p of u.krbPrincipals ?? []) {
      if (!kerberos) throw new Error('startHubStandin: users[].krbPrincipals needs options.kerberos');
      kerberos.addPrincipal(state, u.name, p);
    }
  }
  for (const c of options.channels ?? []) state.addChannel(c);
  for (const { name, ...h } of options.hosts ?? []) state.addHost(name, h);
  return state;
}

class KojiHubStandin implements HubStandin {
  readonly state: HubState;
  readonly calls: HubCallRecord[] = [];
  private readonly log: Logger;
  private readonly tls: { key: string; cert: string; ca: string | string[] };
  private readonly kerberos: HubKerberos | undefined;
  private readonly lifetimeMs: number;
  private readonly address: string;
  private portNumber: number;
  private server: https.Server | undefined;
  private delay = { ms: 0, methods: undefined as string[] | undefined, times: Infinity };
  private failures: { count: number; mode: FailureMode } = { count: 0, mode: 'http503' };
  private offline = false;

  constructor(private readonly options: HubStandinOptions) {
    this.log = options.log ?? pino({ level: 'silent' });
    this.tls = options.tls ?? { key: options.key ?? '', cert: options.cert ?? '', ca: options.ca ?? [] };
    const { key, cert, ca } = this.tls;
    if (!key || !cert || (Array.isArray(ca) ? ca.length === 0 : !ca)) {
      throw new Error('startHubStandin needs the hub key, certificate and client CA (options.tls or key/cert/ca)');
    }
    this.kerberos = options.kerberos ? new HubKerberos({ log: this.log, ...options.kerberos }) : undefined;
    this.state = seedState(options, this.kerberos);
    this.lifetimeMs = options.sessionLifetimeMs ?? 24 * 3_600_000;
    this.portNumber = options.port ?? 0;
    this.address = options.host ?? '127.0.0.1';
  }

  get url(): string {
    return `https://${this.address}:${this.portNumber}/kojihub`;
  }

  get port(): number {
    return this.portNumber;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const { key, cert, ca } = this.tls;
    const srv = https.createServer({ key, cert, ca, requestCert: false, minVersion: 'TLSv1.2', secureOptions: NO_RESUME_ON_RENEGOTIATION }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log.error({ err }, 'hub stand-in request failed');
        if (!res.headersSent) sendPlain(res, 500, 'Internal Server Error');
        else res.destroy();
      });
    });
    srv.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'TLS client error'));
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.portNumber, this.address, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    this.portNumber = (srv.address() as AddressInfo).port;
    this.server = srv;
    this.log.info({ port: this.portNumber }, 'Koji hub stand-in listening');
  }

  async stop(): Promise<void> {
    const srv = this.server;
    if (!srv) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
    srv.closeAllConnections();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const socket = req.socket as TLSSocket;
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
    if (path !== '/kojihub' && path !== '/kojihub/ssllogin') return sendPlain(res, 404, 'Not Found');
    if (req.method !== 'POST') return sendPlain(res, 405, 'This is an XML-RPC server. Only POST requests are accepted.', { Allow: 'POST' });
    const body = await readBody(req);
    if (this.failInjected(res, socket)) return;

    let login: LoginIdentity = { replyHeaders: {} };
    if (path === '/kojihub/ssllogin') {
      const auth = await loginLocationAuth(req, this.kerberos, this.log);
      if (isRefusal(auth)) return sendPlain(res, auth.status, auth.text, auth.headers);
      login = auth;
    }

    let decoded: { method: string; params: XmlRpcValue[] };
    try {
      decoded = await decodeMethodCall(body);
    } catch (err) {
      return sendPlain(res, 400, `Invalid request: ${(err as Error).message}`);
    }
    const { method, params } = decoded;
    const record = this.record(req, method, params, path);

    let result: XmlRpcValue;
    const inner: string[] = []; // a multiCall's inner method names
    try {
      result = this.call(req, method, params, login, record, inner);
    } catch (err) {
      const f = asFault(err, this.log);
      record.fault = f;
      this.log.debug({ method, fault: f }, 'hub fault');
      return sendFault(res, f.faultCode, f.faultString, login.replyHeaders);
    }
    await this.maybeSlow(method, inner);
    const out = encodeMethodResponse(result);
    res.writeHead(200, { ...login.replyHeaders, 'Content-Type': 'text/xml', ...KOJI_VERSION_HEADER, 'Content-Length': Buffer.byteLength(out) });
    res.end(out);
  }

  /** A failure a test asked for (failNext, setOffline): answered here, true when the request is done. */
  private failInjected(res: http.ServerResponse, socket: TLSSocket): boolean {
    if (this.failures.count > 0) {
      this.failures.count -= 1;
      const mode = this.failures.mode;
      if (mode === 'reset') socket.destroy();
      else if (mode === 'http500' || mode === 'http503') sendPlain(res, mode === 'http500' ? 500 : 503, 'Service Unavailable');
      else sendFault(res, FAULT.ServerOffline, 'server is offline');
      return true;
    }
    if (this.offline) {
      sendFault(res, FAULT.ServerOffline, 'server is offline');
      return true;
    }
    return false;
  }

  private record(req: http.IncomingMessage, method: string, params: XmlRpcValue[], path: string): HubCallRecord {
    const socket = req.socket as TLSSocket;
    const record: HubCallRecord = { method, params, path, tlsVersion: socket.getProtocol?.() ?? null, at: new Date() };
    const sid = req.headers['koji-session-id'];
    const cn = req.headers['koji-session-callnum'];
    if (sid !== undefined) record.sessionId = Number(sid);
    if (cn !== undefined) record.callnum = Number(cn);
    this.calls.push(record);
    return record;
  }

  /** Runs one call (or a multiCall) under its session; throws a fault. */
  private call(req: http.IncomingMessage, method: string, params: XmlRpcValue[], login: LoginIdentity, record: HubCallRecord, inner: string[]): XmlRpcValue {
    if (!isMultiCall(method)) requireKnownMethod(method);
    const s = openSession(this.state, this.lifetimeMs, req, method);
    record.user = s.user?.name;
    const ctx: CallContext = {
      state: this.state,
      session: s.session,
      loggedIn: s.loggedIn,
      user: s.user,
      clientVerify: login.clientVerify,
      clientCN: login.clientCN,
      remoteUser: login.remoteUser,
      kerberos: this.kerberos,
      loginCreatesUser: this.options.loginCreatesUser ?? false,
      committed: false,
    };
    const result = isMultiCall(method) ? multiCall(params, ctx, this.calls, inner, this.log) : dispatch(method, params, ctx);
    // Koji stores the call number only when the call committed a change (auth.py, "deliberately after the commit")
    if (ctx.committed && s.session && s.callnum !== undefined && s.loggedIn) s.session.callnum = s.callnum;
    return result;
  }

  /** A slow method is as slow inside a multiCall: the whole request waits for it. */
  private async maybeSlow(method: string, inner: string[]): Promise<void> {
    const { ms, methods, times } = this.delay;
    const slowed = (m: string) => !methods || methods.includes(m);
    if (ms > 0 && times > 0 && (slowed(method) || inner.some(slowed))) {
      this.delay.times -= 1;
      await new Promise((r) => setTimeout(r, ms));
    }
  }

  addUser(name: string, perms: string[] = [], o: { blocked?: boolean } = {}): HubUser {
    return this.state.addUser(name, perms, o);
  }

  grant(user: string, perm: string): void {
    const u = this.state.userByName(user);
    if (!u) throw new Error(`no user ${user}`);
    u.perms.add(perm);
  }

  revoke(user: string, perm: string): void {
    this.state.userByName(user)?.perms.delete(perm);
  }

  addChannel(name: string): void {
    this.state.addChannel(name);
  }

  addHost(name: string, o?: Parameters<HubState['addHost']>[1]): HubHost {
    return this.state.addHost(name, o);
  }

  host(name: string): HubHost | undefined {
    return snapshot(this.state.hostByName(name));
  }

  setHost(name: string, patch: Partial<Pick<HubHost, 'enabled' | 'comment' | 'arches' | 'ready' | 'capacity'>>): void {
    const h = this.state.hostByName(name);
    if (!h) throw new Error(`no host ${name}`);
    Object.assign(h, patch);
  }

  createTask(h: string | null, o?: Parameters<HubState['createTask']>[1]): HubTask {
    return this.state.createTask(h, o);
  }

  finishTask(id: number, st?: number): HubTask {
    return this.state.finishTask(id, st);
  }

  task(id: number): HubTask | undefined {
    return snapshot(this.state.tasks.get(id));
  }

  expireSession(id?: number): void {
    for (const s of this.state.sessions.values()) if (id === undefined || s.id === id) s.expired = true;
  }

  setDelay(ms: number, methods?: string[], times = Infinity): void {
    this.delay = { ms, methods, times };
  }

  failNext(count: number, mode: FailureMode = 'http503'): void {
    this.failures = { count, mode };
  }

  setOffline(offline: boolean): void {
    this.offline = offline;
  }

  addKrbPrincipal(user: string, principal: string): void {
    if (!this.kerberos) throw new Error('addKrbPrincipal: the stand-in was started without options.kerberos');
    this.kerberos.addPrincipal(this.state, user, principal);
  }
}

function snapshot<T extends object>(v: T | undefined): T | undefined {
  return v ? structuredClone(v) : undefined;
}
