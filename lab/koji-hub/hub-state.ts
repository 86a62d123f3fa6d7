/**
 * The data of the Koji hub stand-in (users, permissions, channels, hosts, tasks, sessions) and Koji's rules
 * for it, as kojihub 1.35 applies them (kojihub/kojihub.py, kojihub/auth.py): return shapes, fault codes and
 * strings, permission checks. No HTTP here: ./hub-standin serves it.
 */
import { randomBytes } from 'node:crypto';
import { TASK_STATES, type XmlRpcValue } from '../../src';

/** A fault the stand-in answers with (Koji's code and string). */
export class HubFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(faultString);
  }
}

export const FAULT = {
  plain: 1,
  GenericError: 1000,
  AuthError: 1002,
  ActionNotAllowed: 1004,
  AuthExpired: 1007,
  SequenceError: 1008,
  RetryError: 1009,
  ServerOffline: 1014,
  ParameterError: 1019,
} as const;

const TASK_STATE_NAMES = ['FREE', 'OPEN', 'CLOSED', 'CANCELED', 'ASSIGNED', 'FAILED'];
export const USERTYPES = { NORMAL: 0, HOST: 1, GROUP: 2 } as const;
export const AUTHTYPES = { NORMAL: 0, KERBEROS: 1, SSL: 2, GSSAPI: 3 } as const;

export interface HubUser {
  id: number;
  name: string;
  status: 0 | 1;
  usertype: number;
  perms: Set<string>;
}

export interface HubChannel {
  id: number;
  name: string;
  description: string | null;
  enabled: boolean;
  comment: string | null;
}

export interface HubHost {
  id: number;
  user_id: number;
  name: string;
  arches: string;
  capacity: number;
  description: string | null;
  comment: string | null;
  enabled: boolean;
  ready: boolean;
  task_load: number;
  update_ts: number | null;
  channels: number[];
}

export interface HubTask {
  id: number;
  method: string;
  state: number;
  host_id: number | null;
  channel_id: number;
  owner: number;
  arch: string;
  priority: number;
  weight: number;
  parent: number | null;
  label: string | null;
  create: Date;
  start: Date | null;
  completion: Date | null;
}

export interface HubSession {
  id: number;
  key: string;
  userId: number;
  authtype: number;
  /** Last call number the hub stored (after a call that changed data); null before any. */
  callnum: number | null;
  expired: boolean;
  closed: boolean;
  start: number;
  renew: number | null;
}

/** Postgres's text form of a timestamptz, as the hub returns times: 2024-05-01 12:00:00.123456+00:00 */
export function kojiTime(d: Date | null): string | null {
  if (!d) return null;
  return `${d.toISOString().replace('T', ' ').replace('Z', '')}000+00:00`;
}

function epoch(d: Date | null): number | null {
  return d ? d.getTime() / 1000 : null;
}

export class HubState {
  readonly users = new Map<number, HubUser>();
  readonly channels = new Map<number, HubChannel>();
  readonly hosts = new Map<number, HubHost>();
  readonly tasks = new Map<number, HubTask>();
  readonly sessions = new Map<number, HubSession>();
  private seq = { user: 0, channel: 0, host: 0, task: 0, session: 0 };

  constructor() {
    this.addChannel('default');
  }

  // ---- set-up (the state API) ----

  addUser(name: string, perms: string[] = [], options: { blocked?: boolean; usertype?: number } = {}): HubUser {
    const existing = this.userByName(name);
    if (existing) {
      for (const p of perms) existing.perms.add(p);
      return existing;
    }
    const u: HubUser = { id: ++this.seq.user, name, status: options.blocked ? 1 : 0, usertype: options.usertype ?? USERTYPES.NORMAL, perms: new Set(perms) };
    this.users.set(u.id, u);
    return u;
  }

  addChannel(name: string, options: { description?: string; enabled?: boolean; comment?: string } = {}): HubChannel {
    const existing = this.channelByName(name);
    if (existing) return existing;
    const c: HubChannel = { id: ++this.seq.channel, name, description: options.description ?? null, enabled: options.enabled ?? true, comment: options.comment ?? null };
    this.channels.set(c.id, c);
    return c;
  }

  addHost(
    name: string,
    options: { arches?: string; channels?: string[]; enabled?: boolean; comment?: string | null; capacity?: number; ready?: boolean; description?: string } = {},
  ): HubHost {
    if (this.hostByName(name)) throw new Error(`host ${name} already exists`);
    const user = this.addUser(name, [], { usertype: USERTYPES.HOST });
    const channels = (options.channels ?? ['default']).map((c) => this.addChannel(c).id);
    const h: HubHost = {
      id: ++this.seq.host,
      user_id: user.id,
      name,
      arches: options.arches ?? 'x86_64',
      capacity: options.capacity ?? 2.0,
      description: options.description ?? null,
      comment: options.comment ?? null,
      enabled: options.enabled ?? true,
      ready: options.ready ?? true,
      task_load: 0.0,
      update_ts: Date.now() / 1000,
      channels,
    };
    this.hosts.set(h.id, h);
    return h;
  }

  /** A task on a host (state ASSIGNED by default when a host is given, FREE without). */
  createTask(hostName: string | null, options: { method?: string; state?: number; arch?: string; owner?: string; channel?: string; priority?: number; createdAt?: Date } = {}): HubTask {
    const host = hostName === null ? undefined : this.hostByName(hostName);
    if (hostName !== null && !host) throw new Error(`no host ${hostName}`);
    const owner = this.addUser(options.owner ?? 'kojiadmin');
    const state = options.state ?? (host ? TASK_STATES.ASSIGNED : TASK_STATES.FREE);
    const create = options.createdAt ?? new Date();
    const t: HubTask = {
      id: ++this.seq.task,
      method: options.method ?? 'buildArch',
      state,
      host_id: host?.id ?? null,
      channel_id: this.addChannel(options.channel ?? 'default').id,
      owner: owner.id,
      arch: options.arch ?? host?.arches.split(/\s+/)[0] ?? 'noarch',
      priority: options.priority ?? 20,
      weight: 1.0,
      parent: null,
      label: null,
      create,
      start: state === TASK_STATES.OPEN ? new Date() : null,
      completion: null,
    };
    this.tasks.set(t.id, t);
    this.updateLoad();
    return t;
  }

  /** Ends a task (CLOSED by default; CANCELED or FAILED also end it). */
  finishTask(id: number, state: number = TASK_STATES.CLOSED): HubTask {
    const t = this.tasks.get(id);
    if (!t) throw new Error(`no task ${id}`);
    t.state = state;
    t.completion = new Date();
    this.updateLoad();
    return t;
  }

  private updateLoad(): void {
    for (const h of this.hosts.values()) {
      h.task_load = [...this.tasks.values()].filter((t) => t.host_id === h.id && t.state === TASK_STATES.OPEN).reduce((n, t) => n + t.weight, 0);
    }
  }

  userByName(name: string): HubUser | undefined {
    return [...this.users.values()].find((u) => u.name === name);
  }
  channelByName(name: string): HubChannel | undefined {
    return [...this.channels.values()].find((c) => c.name === name);
  }
  hostByName(name: string): HubHost | undefined {
    return [...this.hosts.values()].find((h) => h.name === name);
  }

  // ---- sessions (kojihub/auth.py) ----

  createSession(user: HubUser, authtype: number): HubSession {
    const s: HubSession = {
      id: ++this.seq.session,
      key: `${user.id}-${randomBytes(15).toString('base64url').slice(0, 19)}`,
      userId: user.id,
      authtype,
      callnum: null,
      expired: false,
      closed: false,
      start: Date.now(),
      renew: null,
    };
    this.sessions.set(s.id, s);
    return s;
  }

  renewSession(s: HubSession): HubSession {
    s.key = `${s.userId}-${randomBytes(15).toString('base64url').slice(0, 19)}`;
    s.expired = false;
    s.renew = Date.now();
    return s;
  }

  // ---- Koji's read shapes ----

  hostInfo(h: HubHost): Record<string, XmlRpcValue> {
    return {
      id: h.id,
      user_id: h.user_id,
      name: h.name,
      update_ts: h.update_ts,
      ready: h.ready,
      task_load: h.task_load,
      arches: h.arches,
      capacity: h.capacity,
      description: h.description,
      comment: h.comment,
      enabled: h.enabled,
    };
  }

  taskInfo(t: HubTask, countOwner = true): Record<string, XmlRpcValue> {
    const owner = this.users.get(t.owner);
    const info: Record<string, XmlRpcValue> = {
      id: t.id,
      state: t.state,
      create_time: kojiTime(t.create),
      create_ts: epoch(t.create),
      start_time: kojiTime(t.start),
      start_ts: epoch(t.start),
      completion_time: kojiTime(t.completion),
      completion_ts: epoch(t.completion),
      channel_id: t.channel_id,
      host_id: t.host_id,
      parent: t.parent,
      label: t.label,
      waiting: null,
      awaited: null,
      owner: t.owner,
      method: t.method,
      arch: t.arch,
      priority: t.priority,
      weight: t.weight,
      request: null,
      result: null,
    };
    if (countOwner) {
      info.owner_name = owner?.name ?? null;
      info.owner_type = owner?.usertype ?? null;
    }
    return info;
  }

  channelInfo(c: HubChannel): Record<string, XmlRpcValue> {
    return { id: c.id, name: c.name, description: c.description, enabled: c.enabled, comment: c.comment };
  }

  userInfo(u: HubUser): Record<string, XmlRpcValue> {
    return { id: u.id, name: u.name, status: u.status, usertype: u.usertype, krb_principals: [] };
  }

  findHost(info: XmlRpcValue | undefined, strict: boolean): HubHost | null {
    let h: HubHost | undefined;
    if (typeof info === 'number') h = this.hosts.get(info);
    else if (typeof info === 'string') h = this.hostByName(info);
    else throw new HubFault(FAULT.ParameterError, `Invalid name or id value: ${JSON.stringify(info)}`);
    if (!h && strict) throw new HubFault(FAULT.GenericError, `Invalid hostInfo: ${String(info)}`);
    return h ?? null;
  }

  findChannel(info: XmlRpcValue | undefined, strict: boolean): HubChannel | null {
    let c: HubChannel | undefined;
    if (typeof info === 'number') c = this.channels.get(info);
    else if (typeof info === 'string') c = this.channelByName(info);
    if (!c && strict) throw new HubFault(FAULT.GenericError, `No such channel: ${String(info)}`);
    return c ?? null;
  }

  taskStateName(state: number): string {
    return TASK_STATE_NAMES[state] ?? String(state);
  }
}
