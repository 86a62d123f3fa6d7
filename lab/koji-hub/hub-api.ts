/**
 * What a test or the lab sees of the Koji hub stand-in: its options, the calls it recorded, and the handle to
 * change its state, slow it down or make it fail.
 */
import type { Logger } from 'pino';
import type { XmlRpcValue } from '../../src';
import type { HubKerberosOptions } from './hub-kerberos';
import type { HubHost, HubSession, HubState, HubTask, HubUser } from './hub-state';

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
