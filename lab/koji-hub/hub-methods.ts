/**
 * The hub methods the stand-in serves, with Koji's names, argument names and order (positional or keyword, as
 * Python binds them), return shapes, permission checks and faults. `multiCall` is handled by the caller
 * (./hub-standin), which dispatches each call here.
 */
import type { HubKerberos } from './hub-kerberos';
import { AUTHTYPES, FAULT, HubFault, type HubSession, type HubState, type HubUser } from './hub-state';
import { isStruct, TASK_STATES, type XmlRpcValue } from '../../src';

/** What the hub knows of the request: the session (logged in or expired) and the verified client cert. */
export interface CallContext {
  state: HubState;
  /** The session from the headers, when valid; `loggedIn` false when it has expired (renewal case). */
  session?: HubSession;
  loggedIn: boolean;
  user?: HubUser;
  /** Apache's SSL_CLIENT_VERIFY / SSL_CLIENT_S_DN_CN, set only under /ssllogin. */
  clientVerify?: string;
  clientCN?: string;
  /** Apache's REMOTE_USER, set by Negotiate (Kerberos) at /ssllogin: the client's principal. */
  remoteUser?: string;
  /** The hub's Kerberos principal mapping (when the stand-in accepts Kerberos). */
  kerberos?: HubKerberos;
  loginCreatesUser: boolean;
  /** Set by a method that changed data (Koji then stores the call number). */
  committed: boolean;
}

type Args = Record<string, XmlRpcValue | undefined>;

interface MethodSpec {
  params: string[];
  /** How many of the first params have no default (Python raises TypeError when they are missing). */
  required?: number;
  /** Accepts any further positional arguments (*args). */
  varargs?: boolean;
  /** Accepts any keyword arguments (**kw). */
  varkw?: boolean;
  fn: (a: Args, ctx: CallContext, rest: { args: XmlRpcValue[]; kw: Record<string, XmlRpcValue> }) => XmlRpcValue;
}

function assertPerm(ctx: CallContext, perm: string): void {
  const perms = ctx.loggedIn && ctx.user ? ctx.user.perms : new Set<string>();
  if (perms.has(perm) || perms.has('admin')) return;
  const who = ctx.loggedIn && ctx.user ? ` (logged in as ${ctx.user.name})` : ' (user not logged in)';
  throw new HubFault(FAULT.ActionNotAllowed, `${perm} permission required${who}`);
}

function setHostEnabled(ctx: CallContext, hostname: XmlRpcValue | undefined, enabled: boolean): null {
  assertPerm(ctx, 'host');
  const h = typeof hostname === 'string' || typeof hostname === 'number' ? ctx.state.findHost(hostname, false) : null;
  if (!h) throw new HubFault(FAULT.GenericError, `host does not exist: ${String(hostname)}`);
  h.enabled = enabled; // the comment stays as it was
  ctx.committed = true;
  return null;
}

function asList(v: XmlRpcValue | undefined): XmlRpcValue[] | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : [v];
}

function matchInt(value: number | null, want: XmlRpcValue | undefined): boolean {
  if (want === null) return value === null;
  if (Array.isArray(want)) return want.includes(value as XmlRpcValue);
  return value === want;
}

function sortRows(rows: Record<string, XmlRpcValue>[], order: string): Record<string, XmlRpcValue>[] {
  const keys = order.split(',').map((k) => k.trim()).filter(Boolean);
  return [...rows].sort((a, b) => {
    for (const k of keys) {
      const desc = k.startsWith('-');
      const f = desc ? k.slice(1) : k;
      const x = a[f] as string | number | null;
      const y = b[f] as string | number | null;
      if (x === y) continue;
      const c = x === null ? 1 : y === null ? -1 : x < y ? -1 : 1;
      return desc ? -c : c;
    }
    return 0;
  });
}

function applyQueryOpts(rows: Record<string, XmlRpcValue>[], q: Record<string, XmlRpcValue>): XmlRpcValue {
  if (q.countOnly) return rows.length;
  let out = typeof q.order === 'string' ? sortRows(rows, q.order) : rows;
  const offset = typeof q.offset === 'number' ? q.offset : 0;
  out = out.slice(offset, typeof q.limit === 'number' ? offset + q.limit : undefined);
  if (q.asList) return out.map((r) => Object.values(r));
  return out;
}

/** auth.py sslLogin when REMOTE_USER is set (Negotiate): the principal is mapped to a user, authtype GSSAPI. */
function gssapiLogin(a: Args, ctx: CallContext, principal: string): XmlRpcValue {
  // no ProxyPrincipals in the stand-in: nobody may log in other users
  if (a.proxyuser) throw new HubFault(FAULT.AuthError, `${principal} is not authorized to login other users`);
  let user: HubUser | undefined;
  if (principal.includes('@')) user = ctx.kerberos?.userFor(ctx.state, principal);
  else user = ctx.state.userByName(principal);
  if (!user) {
    if (!ctx.loginCreatesUser) throw new HubFault(FAULT.AuthError, `Unknown user: ${principal}`);
    user = principal.includes('@') && ctx.kerberos ? ctx.kerberos.createUserFor(ctx.state, principal) : ctx.state.addUser(principal);
  }
  if (user.status !== 0) throw new HubFault(FAULT.AuthError, `logins by ${user.name} are not allowed`);
  const renew = a.renew === true && ctx.session && ctx.session.userId === user.id && !ctx.session.closed;
  const s = renew ? ctx.state.renewSession(ctx.session!) : ctx.state.createSession(user, AUTHTYPES.GSSAPI);
  ctx.committed = true;
  return { 'session-id': s.id, 'session-key': s.key, 'header-auth': true };
}

export const METHODS: Record<string, MethodSpec> = {
  hello: { params: [], varargs: true, fn: () => 'Hello World' },
  getAPIVersion: { params: [], fn: () => 1 },
  getKojiVersion: { params: [], fn: () => '1.35.0' },

  getLoggedInUser: {
    params: [],
    fn: (_a, ctx) => {
      if (!ctx.loggedIn || !ctx.user || !ctx.session) return null;
      const krb = ctx.kerberos?.principalsOf(ctx.user.name) ?? [];
      return { ...ctx.state.userInfo(ctx.user), authtype: ctx.session.authtype, krb_principal: krb[0] ?? null, krb_principals: krb };
    },
  },
  getPerms: { params: [], fn: (_a, ctx) => (ctx.loggedIn && ctx.user ? [...ctx.user.perms] : []) },
  hasPerm: {
    params: ['perm', 'strict'], required: 1,
    fn: (a, ctx) => Boolean(ctx.loggedIn && ctx.user && ctx.user.perms.has(String(a.perm))),
  },

  sslLogin: {
    params: ['proxyuser', 'proxyauthtype', 'renew', 'exclusive'],
    fn: (a, ctx) => {
      if (ctx.loggedIn) throw new HubFault(FAULT.AuthError, 'Already logged in');
      if (ctx.remoteUser) return gssapiLogin(a, ctx, ctx.remoteUser);
      if (ctx.clientVerify !== 'SUCCESS') throw new HubFault(FAULT.AuthError, `could not verify client: ${ctx.clientVerify ?? 'None'}`);
      if (!ctx.clientCN) throw new HubFault(FAULT.AuthError, 'unable to get user information (CN) from client certificate');
      if (a.proxyuser) throw new HubFault(FAULT.AuthError, `CN=${ctx.clientCN} is not authorized to login other users`);
      let user = ctx.state.userByName(ctx.clientCN);
      if (!user) {
        if (!ctx.loginCreatesUser) throw new HubFault(FAULT.AuthError, `Unknown user: ${ctx.clientCN}`);
        user = ctx.state.addUser(ctx.clientCN);
      }
      if (user.status !== 0) throw new HubFault(FAULT.AuthError, `logins by ${user.name} are not allowed`);
      const renew = a.renew === true && ctx.session && ctx.session.userId === user.id && !ctx.session.closed;
      const s = renew ? ctx.state.renewSession(ctx.session!) : ctx.state.createSession(user, AUTHTYPES.SSL);
      ctx.committed = true;
      return { 'session-id': s.id, 'session-key': s.key, 'header-auth': true };
    },
  },

  logout: {
    params: ['session_id'],
    fn: (a, ctx) => {
      if (!ctx.loggedIn || !ctx.session) throw new HubFault(FAULT.AuthError, 'Not logged in');
      let target = ctx.session;
      if (a.session_id !== undefined && a.session_id !== null) {
        const other = ctx.state.sessions.get(Number(a.session_id));
        const admin = ctx.user?.perms.has('admin');
        if (!other || (!admin && other.userId !== ctx.session.userId)) throw new HubFault(FAULT.ActionNotAllowed, 'only admins or owner may logout other session');
        target = other;
      }
      target.expired = true;
      target.closed = true;
      ctx.committed = true;
      return null;
    },
  },

  getHost: {
    params: ['hostInfo', 'strict', 'event'], required: 1,
    fn: (a, ctx) => {
      const h = ctx.state.findHost(a.hostInfo, a.strict === true);
      return h ? ctx.state.hostInfo(h) : null;
    },
  },

  listHosts: {
    params: ['arches', 'channelID', 'ready', 'enabled', 'userID', 'queryOpts'],
    fn: (a, ctx) => {
      let hosts = [...ctx.state.hosts.values()];
      const arches = asList(a.arches ?? undefined);
      if (a.arches !== undefined && a.arches !== null) {
        if (!arches || arches.length === 0) throw new HubFault(FAULT.GenericError, 'arches option cannot be empty');
        hosts = hosts.filter((h) => h.arches.split(/\s+/).some((x) => arches.includes(x)));
      }
      if (a.channelID !== undefined && a.channelID !== null) {
        const c = ctx.state.findChannel(a.channelID, true)!;
        hosts = hosts.filter((h) => h.channels.includes(c.id));
      }
      if (typeof a.ready === 'boolean') hosts = hosts.filter((h) => h.ready === a.ready);
      if (typeof a.enabled === 'boolean') hosts = hosts.filter((h) => h.enabled === a.enabled);
      if (a.userID !== undefined && a.userID !== null) {
        const u = typeof a.userID === 'number' ? ctx.state.users.get(a.userID) : ctx.state.userByName(String(a.userID));
        if (!u) throw new HubFault(FAULT.GenericError, `No such user: ${String(a.userID)}`);
        hosts = hosts.filter((h) => h.user_id === u.id);
      }
      const rows = hosts.map((h) => ctx.state.hostInfo(h));
      return isStruct(a.queryOpts) ? applyQueryOpts(rows, a.queryOpts) : rows;
    },
  },

  enableHost: { params: ['hostname'], required: 1, fn: (a, ctx) => setHostEnabled(ctx, a.hostname, true) },
  disableHost: { params: ['hostname'], required: 1, fn: (a, ctx) => setHostEnabled(ctx, a.hostname, false) },

  editHost: {
    params: ['hostInfo'], required: 1,
    varkw: true,
    fn: (a, ctx, rest) => {
      assertPerm(ctx, 'host');
      const h = ctx.state.findHost(a.hostInfo, true)!;
      const changes = (['arches', 'capacity', 'description', 'comment'] as const).filter((f) => f in rest.kw && rest.kw[f] !== h[f]);
      if (changes.length === 0) return false;
      for (const f of changes) {
        const v = rest.kw[f];
        if (f !== 'capacity' && v !== null && typeof v !== 'string') throw new HubFault(FAULT.ParameterError, `Invalid type for value '${String(v)}': ${typeof v}, expected type <class 'str'>`);
        (h as unknown as Record<string, unknown>)[f] = v;
      }
      ctx.committed = true;
      return true;
    },
  },

  listChannels: {
    params: ['hostID', 'event', 'enabled'],
    fn: (a, ctx) => {
      let channels = [...ctx.state.channels.values()];
      if (a.hostID !== undefined && a.hostID !== null) {
        const h = ctx.state.findHost(a.hostID, true)!;
        channels = channels.filter((c) => h.channels.includes(c.id));
      } else if (a.event) {
        throw new HubFault(FAULT.GenericError, 'list_channels with event and not host is not allowed.');
      }
      if (typeof a.enabled === 'boolean') channels = channels.filter((c) => c.enabled === a.enabled);
      return channels.map((c) => ctx.state.channelInfo(c));
    },
  },

  getChannel: {
    params: ['channelInfo', 'strict'], required: 1,
    fn: (a, ctx) => {
      const c = ctx.state.findChannel(a.channelInfo, a.strict === true);
      return c ? ctx.state.channelInfo(c) : null;
    },
  },

  listTasks: {
    params: ['opts', 'queryOpts'],
    fn: (a, ctx) => {
      const o = isStruct(a.opts) ? a.opts : {};
      const q = isStruct(a.queryOpts) ? a.queryOpts : {};
      let tasks = [...ctx.state.tasks.values()];
      for (const f of ['arch', 'state'] as const) {
        if (f in o) tasks = tasks.filter((t) => (asList(o[f]) ?? []).includes(t[f]));
        if (`not_${f}` in o) tasks = tasks.filter((t) => !(asList(o[`not_${f}`]) ?? []).includes(t[f]));
      }
      for (const f of ['owner', 'host_id', 'channel_id', 'parent'] as const) {
        if (f in o) tasks = tasks.filter((t) => matchInt(t[f], o[f]));
        if (`not_${f}` in o) tasks = tasks.filter((t) => !matchInt(t[f], o[`not_${f}`]));
      }
      if (typeof o.method === 'string') tasks = tasks.filter((t) => t.method === o.method);
      const rows = tasks.map((t) => ctx.state.taskInfo(t, !q.countOnly));
      return applyQueryOpts(rows, { order: 'id', ...q });
    },
  },

  getTaskInfo: {
    params: ['task_id', 'request', 'strict'], required: 1,
    fn: (a, ctx) => {
      const t = ctx.state.tasks.get(Number(a.task_id));
      if (!t) {
        if (a.strict) throw new HubFault(FAULT.GenericError, `No such task: ${String(a.task_id)}`);
        return null;
      }
      return ctx.state.taskInfo(t, false);
    },
  },

  freeTask: {
    params: ['task_id'], required: 1,
    fn: (a, ctx) => {
      assertPerm(ctx, 'admin');
      const t = ctx.state.tasks.get(Number(a.task_id));
      // Koji's Task.free() reads the state and treats 0 (FREE) like a missing task
      if (!t || t.state === TASK_STATES.FREE) throw new HubFault(FAULT.GenericError, `No such task: ${String(a.task_id)}`);
      if ([TASK_STATES.CLOSED, TASK_STATES.CANCELED, TASK_STATES.FAILED].includes(t.state as 2 | 3 | 5)) {
        throw new HubFault(FAULT.GenericError, `Cannot free task ${t.id}, state is ${ctx.state.taskStateName(t.state)}`);
      }
      t.state = TASK_STATES.FREE;
      t.host_id = null;
      ctx.committed = true;
      return null;
    },
  },
};

/** Python's argument binding: positional then keyword, ParameterError (Koji's call_with_argcheck) on misfit. */
export function callMethod(name: string, args: XmlRpcValue[], kw: Record<string, XmlRpcValue>, ctx: CallContext): XmlRpcValue {
  const spec = METHODS[name];
  if (!spec) throw new HubFault(FAULT.GenericError, `Invalid method: ${name}`);
  if (args.length > spec.params.length && !spec.varargs) {
    throw new HubFault(FAULT.ParameterError, `${name}() takes at most ${spec.params.length} positional arguments but ${args.length} were given`);
  }
  const bound: Args = {};
  spec.params.forEach((p, i) => {
    if (i < args.length) bound[p] = args[i];
  });
  const extra: Record<string, XmlRpcValue> = {};
  const missing = () => spec.params.slice(0, spec.required ?? 0).filter((p) => !(p in bound) && !(p in kw));
  if (missing().length) {
    throw new HubFault(FAULT.ParameterError, `${name}() missing ${missing().length} required positional argument: ${missing().map((m) => `'${m}'`).join(' and ')}`);
  }
  for (const [k, v] of Object.entries(kw)) {
    if (spec.params.includes(k)) {
      if (k in bound) throw new HubFault(FAULT.ParameterError, `${name}() got multiple values for argument '${k}'`);
      bound[k] = v;
    } else if (spec.varkw) extra[k] = v;
    else throw new HubFault(FAULT.ParameterError, `${name}() got an unexpected keyword argument '${k}'`);
  }
  return spec.fn(bound, ctx, { args: args.slice(spec.params.length), kw: extra });
}
