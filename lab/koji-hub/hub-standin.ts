/**
 * A Koji hub stand-in for tests and the lab: a real XML-RPC server over HTTPS on loopback, set up like Koji's
 * documented Apache (kojihub/app/httpd.conf): the client certificate is asked for only at /kojihub/ssllogin —
 * under TLS 1.2 by renegotiating (as mod_ssl does), under TLS 1.3 refused with 403 because Node cannot do
 * post-handshake auth (as Apache refuses a client that does not offer it) — and verified against `tls.ca`.
 * Users are mapped from the certificate's CN (Koji's default, no ProxyDNs). With `kerberos` set, /kojihub/ssllogin
 * takes `Authorization: Negotiate` instead (mod_auth_gssapi, against a real KDC: ./hub-kerberos), and the
 * principal is mapped to a user as kojihub/auth.py does. Sessions follow kojihub/auth.py:
 * headers Koji-Session-Id/-Key/-Callnum, a lower call number is a SequenceError, a repeated one after a call
 * that changed data a RetryError, sessions expire after `sessionLifetimeMs` (AuthExpired) and are renewed by
 * `sslLogin(renew=True)`. The methods and their rules are in ./hub-methods.
 * The state API lets tests add users, channels, hosts and tasks, finish tasks, read host state, make calls
 * slow or fail, and stop and restart the hub on the same port.
 */
import { constants as cryptoConstants } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import pino from 'pino';
import { HubKerberos, type HubKerberosOptions } from './hub-kerberos';
import { METHODS, callMethod, type CallContext } from './hub-methods';
import { FAULT, HubFault, HubState, type HubHost, type HubSession, type HubTask, type HubUser } from './hub-state';
import { decodeMethodCall } from '../../src';
import { decodeArgs, encodeFault, encodeMethodResponse, isStruct, type XmlRpcValue } from '../../src';

export { HubState, HubFault, FAULT } from './hub-state';
export type { HubHost, HubTask, HubUser, HubSession, HubChannel } from './hub-state';

export interface HubStandinOptions {
  /** PEM contents: the hub's key and certificate, and the CA(s) whose client certificates it accepts. */
  tls?: { key: string; cert: string; ca: string | string[] };
  /** The same, given flat (either form works). */
  key?: string;
  cert?: string;
  ca?: string | string[];
  /** Seed data: users with their permissions (and Kerberos principals), channels, hosts. */
  users?: Array<{ name: string; perms?: string[]; blocked?: boolean; krbPrincipals?: string[] }>;
  channels?: string[];
  hosts?: Array<{ name: string } & NonNullable<Parameters<HubState['addHost']>[1]>>;
  host?: string;
  /** 0 (default): a free port. */
  port?: number;
  /** Koji's SessionRenewalTimeout (default 24 h). */
  sessionLifetimeMs?: number;
  /** Koji's LoginCreatesUser (Koji defaults to on; the stand-in to off, so unknown certificates are refused). */
  loginCreatesUser?: boolean;
  /**
   * Accept Kerberos (Negotiate) at /kojihub/ssllogin instead of client certificates, as a Fedora-style hub
   * (mod_auth_gssapi) does: the service keytab, realms allowed, principal -> user mapping.
   */
  kerberos?: HubKerberosOptions;
  /** Start with this state (kept across stop/start anyway). */
  state?: HubState;
  log?: Logger;
}

/** One call as the hub saw it (multiCall's inner calls are listed too, with `inMultiCall`). */
export interface HubCallRecord {
  method: string;
  params: XmlRpcValue[];
  path: string;
  tlsVersion: string | null;
  sessionId?: number;
  callnum?: number;
  user?: string;
  fault?: { faultCode: number; faultString: string };
  inMultiCall?: boolean;
  at: Date;
}

export type FailureMode = 'http500' | 'http503' | 'reset' | 'offline';

export interface HubStandin {
  /** The hub's XML-RPC endpoint, e.g. https://127.0.0.1:41234/kojihub (koji's `server`). */
  readonly url: string;
  readonly port: number;
  readonly state: HubState;
  readonly calls: HubCallRecord[];
  readonly running: boolean;
  /** Stops listening and drops every connection (an outage). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;

  addUser(name: string, perms?: string[], options?: { blocked?: boolean }): HubUser;
  grant(user: string, perm: string): void;
  revoke(user: string, perm: string): void;
  addChannel(name: string): void;
  addHost(name: string, options?: Parameters<HubState['addHost']>[1]): HubHost;
  /** A snapshot of the host's Koji state (undefined if unknown). */
  host(name: string): HubHost | undefined;
  /** Changes a host behind rekick's back (e.g. an admin disables it with a comment). */
  setHost(name: string, patch: Partial<Pick<HubHost, 'enabled' | 'comment' | 'arches' | 'ready' | 'capacity'>>): void;
  createTask(host: string | null, options?: Parameters<HubState['createTask']>[1]): HubTask;
  finishTask(id: number, state?: number): HubTask;
  task(id: number): HubTask | undefined;
  /** Expires one session (or all): the next call with it gets AuthExpired. */
  expireSession(id?: number): void;
  /** Delays answers (of every call, or only `methods`; the next `times` ones, or all) by `ms`, after the call
   * ran: a slow or lost answer to a call the hub did carry out. */
  setDelay(ms: number, methods?: string[], times?: number): void;
  /** Makes the next `count` requests fail: HTTP 500/503, a reset connection, or ServerOffline. */
  failNext(count: number, mode?: FailureMode): void;
  /** ServerOffline for every call until turned off (Koji's ServerOffline / LockOut). */
  setOffline(offline: boolean): void;
  /** Koji's edit-user --add-krb: maps a Kerberos principal to a user (needs options.kerberos). */
  addKrbPrincipal(user: string, principal: string): void;
}

const NO_RESUME_ON_RENEGOTIATION = cryptoConstants.SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION;

function readBody(req: http.IncomingMessage, max = 16 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) req.destroy(new Error('request too long'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Renegotiates the TLS 1.2 connection to ask for the client certificate, as mod_ssl does per location. */
function askClientCertificate(socket: TLSSocket): Promise<{ verify: string; cn?: string }> {
  return new Promise((resolve) => {
    const settle = () => {
      const peer = socket.getPeerCertificate();
      const cn = peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined;
      if (!cn) return resolve({ verify: 'NONE' });
      resolve(socket.authorized ? { verify: 'SUCCESS', cn } : { verify: `FAILED:${String(socket.authorizationError)}`, cn });
    };
    const existing = socket.getPeerCertificate();
    if (existing && existing.subject) return settle();
    const timer = setTimeout(() => resolve({ verify: 'NONE' }), 5_000);
    const ok = socket.renegotiate({ requestCert: true, rejectUnauthorized: false }, (err) => {
      clearTimeout(timer);
      if (err) resolve({ verify: `FAILED:${err.message}` });
      else settle();
    });
    if (!ok) {
      clearTimeout(timer);
      resolve({ verify: 'FAILED:renegotiation refused' });
    }
  });
}

const READONLY_FOR_RETRY = new Set<string>(); // Koji's RetryWhitelist holds only host.* calls rekick never makes

export async function startHubStandin(options: HubStandinOptions): Promise<HubStandin> {
  const log = options.log ?? pino({ level: 'silent' });
  const state = options.state ?? new HubState();
  const tls = options.tls ?? { key: options.key ?? '', cert: options.cert ?? '', ca: options.ca ?? [] };
  if (!tls.key || !tls.cert || (Array.isArray(tls.ca) ? tls.ca.length === 0 : !tls.ca)) {
    throw new Error('startHubStandin needs the hub key, certificate and client CA (options.tls or key/cert/ca)');
  }
  for (const u of options.users ?? []) state.addUser(u.name, u.perms ?? [], { blocked: u.blocked });
  const kerberos = options.kerberos ? new HubKerberos({ log, ...options.kerberos }) : undefined;
  for (const u of options.users ?? []) {
    for (const p of u.krbPrincipals ?? []) {
      if (!kerberos) throw new Error('startHubStandin: users[].krbPrincipals needs options.kerberos');
      kerberos.addPrincipal(state, u.name, p);
    }
  }
  for (const c of options.channels ?? []) state.addChannel(c);
  for (const { name, ...h } of options.hosts ?? []) state.addHost(name, h);
  const lifetime = options.sessionLifetimeMs ?? 24 * 3_600_000;
  const calls: HubCallRecord[] = [];
  let delay = { ms: 0, methods: undefined as string[] | undefined, times: Infinity };
  let failures: { count: number; mode: FailureMode } = { count: 0, mode: 'http503' };
  let offline = false;
  let server: https.Server | undefined;
  let port = options.port ?? 0;
  const host = options.host ?? '127.0.0.1';

  const fault = (res: http.ServerResponse, code: number, text: string, headers: Record<string, string> = {}) => {
    const body = encodeFault(code, text);
    res.writeHead(200, { ...headers, 'Content-Type': 'text/xml', 'Koji-Version': '1.35.0', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  const plain = (res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
    res.end(`${text}\n`);
  };

  /** kojihub/auth.py Session(): finds the session, applies expiry and the call number rules. */
  function openSession(req: http.IncomingMessage, method: string): { session?: HubSession; loggedIn: boolean; user?: HubUser; callnum?: number } {
    const idh = req.headers['koji-session-id'];
    if (idh === undefined) return { loggedIn: false };
    const id = Number(idh);
    const key = String(req.headers['koji-session-key'] ?? '');
    const cnh = req.headers['koji-session-callnum'] ?? req.headers['koji-callnum'];
    const s = state.sessions.get(id);
    if (!s || s.key !== key || s.closed) throw new HubFault(FAULT.AuthError, 'Invalid session or bad credentials');
    if (!s.expired && Date.now() > (s.renew ?? s.start) + lifetime) s.expired = true;
    if (s.expired && method !== 'sslLogin' && method !== 'login') throw new HubFault(FAULT.AuthExpired, `session "${id}" has expired`);
    let callnum: number | undefined;
    if (cnh !== undefined) {
      callnum = Number(cnh);
      if (!Number.isInteger(callnum)) throw new HubFault(FAULT.AuthError, `Invalid callnum: '${String(cnh)}'`);
      if (s.callnum !== null) {
        if (s.callnum > callnum) throw new HubFault(FAULT.SequenceError, `${s.callnum} > ${callnum} (session ${id})`);
        if (s.callnum === callnum && !READONLY_FOR_RETRY.has(method)) {
          throw new HubFault(FAULT.RetryError, `unable to retry call ${callnum} (method ${method}) for session ${id}`);
        }
      }
    }
    if (s.expired) return { session: s, loggedIn: false, callnum };
    const user = state.users.get(s.userId);
    if (!user || user.status !== 0) throw new HubFault(FAULT.AuthError, `logins by ${user?.name ?? s.userId} are not allowed`);
    return { session: s, loggedIn: true, user, callnum };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const socket = req.socket as TLSSocket;
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
    if (path !== '/kojihub' && path !== '/kojihub/ssllogin') return plain(res, 404, 'Not Found');
    if (req.method !== 'POST') return plain(res, 405, 'This is an XML-RPC server. Only POST requests are accepted.', { Allow: 'POST' });
    const body = await readBody(req);

    if (failures.count > 0) {
      failures.count -= 1;
      const mode = failures.mode;
      if (mode === 'reset') {
        socket.destroy();
        return;
      }
      if (mode === 'http500' || mode === 'http503') return plain(res, mode === 'http500' ? 500 : 503, 'Service Unavailable');
      return fault(res, FAULT.ServerOffline, 'server is offline');
    }
    if (offline) return fault(res, FAULT.ServerOffline, 'server is offline');

    let clientVerify: string | undefined;
    let clientCN: string | undefined;
    let remoteUser: string | undefined;
    const replyHeaders: Record<string, string> = {};
    if (path === '/kojihub/ssllogin' && kerberos) {
      // <Location /kojihub/ssllogin> AuthType GSSAPI, Require valid-user (mod_auth_gssapi)
      const a = await kerberos.accept(req.headers.authorization);
      if (!a.ok) {
        log.info({ reason: a.reason }, 'Negotiate refused');
        return plain(res, 401, `Unauthorized: Kerberos (Negotiate) authentication required (${a.reason})`, { 'WWW-Authenticate': 'Negotiate' });
      }
      remoteUser = a.principal;
      if (a.response) replyHeaders['WWW-Authenticate'] = `Negotiate ${a.response}`;
    } else if (path === '/kojihub/ssllogin') {
      // <Location /kojihub/ssllogin> SSLVerifyClient require
      if (socket.getProtocol() === 'TLSv1.3') {
        return plain(res, 403, 'Forbidden: this location needs a client certificate, and the client does not offer TLS 1.3 post-handshake authentication (cannot perform post-handshake authentication)');
      }
      const v = await askClientCertificate(socket);
      if (v.verify !== 'SUCCESS') {
        log.info({ verify: v.verify, cn: v.cn }, 'client certificate refused');
        return plain(res, 403, `Forbidden: client certificate verification failed (${v.verify === 'NONE' ? 'no certificate sent' : v.verify.replace(/^FAILED:/, '')})`);
      }
      clientVerify = v.verify;
      clientCN = v.cn;
    }

    let decoded: { method: string; params: XmlRpcValue[] };
    try {
      decoded = await decodeMethodCall(body);
    } catch (err) {
      return plain(res, 400, `Invalid request: ${(err as Error).message}`);
    }
    const { method, params } = decoded;
    const record: HubCallRecord = { method, params, path, tlsVersion: socket.getProtocol?.() ?? null, at: new Date() };
    const sid = req.headers['koji-session-id'];
    const cn = req.headers['koji-session-callnum'];
    if (sid !== undefined) record.sessionId = Number(sid);
    if (cn !== undefined) record.callnum = Number(cn);
    calls.push(record);

    let result: XmlRpcValue;
    /** A multiCall's inner method names. */
    const inner: string[] = [];
    try {
      if (method !== 'multiCall' && method !== 'system.multicall') callMethodOrThrowUnknown(method);
      const s = openSession(req, method);
      record.user = s.user?.name;
      const ctx: CallContext = {
        state,
        session: s.session,
        loggedIn: s.loggedIn,
        user: s.user,
        clientVerify,
        clientCN,
        remoteUser,
        kerberos,
        loginCreatesUser: options.loginCreatesUser ?? false,
        committed: false,
      };
      result = method === 'multiCall' || method === 'system.multicall' ? multiCall(params, ctx, inner) : dispatch(method, params, ctx);
      // Koji stores the call number only when the call committed a change (auth.py, "deliberately after the commit")
      if (ctx.committed && s.session && s.callnum !== undefined && s.loggedIn) s.session.callnum = s.callnum;
    } catch (err) {
      const f = asFault(err);
      record.fault = f;
      log.debug({ method, fault: f }, 'hub fault');
      return fault(res, f.faultCode, f.faultString, replyHeaders);
    }
    // A slow method is as slow inside a multiCall: the whole request waits for it.
    const slowed = (m: string) => !delay.methods || delay.methods.includes(m);
    if (delay.ms > 0 && delay.times > 0 && (slowed(method) || inner.some(slowed))) {
      delay.times -= 1;
      await new Promise((r) => setTimeout(r, delay.ms));
    }
    const out = encodeMethodResponse(result);
    res.writeHead(200, { ...replyHeaders, 'Content-Type': 'text/xml', 'Koji-Version': '1.35.0', 'Content-Length': Buffer.byteLength(out) });
    res.end(out);
  }

  function callMethodOrThrowUnknown(method: string): void {
    // kojixmlrpc resolves the handler before it looks at the session
    if (!Object.hasOwn(METHODS, method)) throw new HubFault(FAULT.GenericError, `Invalid method: ${method}`);
  }

  function dispatch(method: string, params: XmlRpcValue[], ctx: CallContext): XmlRpcValue {
    const { args, kwargs } = decodeArgs(params);
    return callMethod(method, args, kwargs, ctx);
  }

  /** kojixmlrpc multiCall: every call on its own; a fault is a struct in the results, not a failure. */
  function multiCall(params: XmlRpcValue[], ctx: CallContext, names: string[]): XmlRpcValue {
    const { args } = decodeArgs(params);
    const list = args[0];
    if (!Array.isArray(list)) throw new HubFault(FAULT.ParameterError, 'multiCall() missing 1 required positional argument: \'calls\'');
    return list.map((c) => {
      const inner = isStruct(c) ? c : {};
      const method = String(inner.methodName ?? '');
      const p = Array.isArray(inner.params) ? inner.params : [];
      names.push(method);
      const rec: HubCallRecord = { method, params: p, path: '/kojihub', tlsVersion: null, inMultiCall: true, sessionId: ctx.session?.id, user: ctx.user?.name, at: new Date() };
      calls.push(rec);
      try {
        if (method === 'multiCall' || method === 'system.multicall') throw new HubFault(FAULT.GenericError, 'multicall not allowed in multicall');
        return [dispatch(method, p, ctx)];
      } catch (err) {
        const f = asFault(err);
        rec.fault = f;
        return { faultCode: f.faultCode, faultString: f.faultString };
      }
    });
  }

  function asFault(err: unknown): { faultCode: number; faultString: string } {
    if (err instanceof HubFault) return { faultCode: err.faultCode, faultString: err.faultString };
    log.error({ err }, 'hub stand-in internal error');
    return { faultCode: FAULT.plain, faultString: `<class 'Exception'>: ${(err as Error)?.message ?? String(err)}` };
  }

  async function start(): Promise<void> {
    if (server) return;
    const srv = https.createServer(
      {
        key: tls.key,
        cert: tls.cert,
        ca: tls.ca,
        requestCert: false,
        minVersion: 'TLSv1.2',
        secureOptions: NO_RESUME_ON_RENEGOTIATION,
      },
      (req, res) => {
        handle(req, res).catch((err: unknown) => {
          log.error({ err }, 'hub stand-in request failed');
          if (!res.headersSent) plain(res, 500, 'Internal Server Error');
          else res.destroy();
        });
      },
    );
    srv.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS client error'));
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    port = (srv.address() as AddressInfo).port;
    server = srv;
    log.info({ port }, 'Koji hub stand-in listening');
  }

  async function stop(): Promise<void> {
    const srv = server;
    if (!srv) return;
    server = undefined;
    const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
    srv.closeAllConnections();
    await closed;
  }

  await start();
  const snapshot = <T extends object>(v: T | undefined): T | undefined => (v ? structuredClone(v) : undefined);

  return {
    get url() {
      return `https://${host}:${port}/kojihub`;
    },
    get port() {
      return port;
    },
    get running() {
      return server !== undefined;
    },
    state,
    calls,
    stop,
    start,
    addUser: (name, perms = [], o = {}) => state.addUser(name, perms, o),
    grant: (user, perm) => {
      const u = state.userByName(user);
      if (!u) throw new Error(`no user ${user}`);
      u.perms.add(perm);
    },
    revoke: (user, perm) => {
      state.userByName(user)?.perms.delete(perm);
    },
    addChannel: (name) => {
      state.addChannel(name);
    },
    addHost: (name, o) => state.addHost(name, o),
    host: (name) => snapshot(state.hostByName(name)),
    setHost: (name, patch) => {
      const h = state.hostByName(name);
      if (!h) throw new Error(`no host ${name}`);
      Object.assign(h, patch);
    },
    createTask: (h, o) => state.createTask(h, o),
    finishTask: (id, st) => state.finishTask(id, st),
    task: (id) => snapshot(state.tasks.get(id)),
    expireSession: (id) => {
      for (const s of state.sessions.values()) if (id === undefined || s.id === id) s.expired = true;
    },
    setDelay: (ms, methods, times = Infinity) => {
      delay = { ms, methods, times };
    },
    failNext: (count, mode = 'http503') => {
      failures = { count, mode };
    },
    setOffline: (v) => {
      offline = v;
    },
    addKrbPrincipal: (user, principal) => {
      if (!kerberos) throw new Error('addKrbPrincipal: the stand-in was started without options.kerberos');
      kerberos.addPrincipal(state, user, principal);
    },
  };
}
