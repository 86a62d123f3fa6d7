/**
 * rekick's Koji client: Koji's API as the steps call it (KojiClient in ./types, and a few more methods), over
 * XML-RPC spoken as koji 1.35's ClientSession speaks it. Login and session: ./session-login; retries and
 * outages: ./hub-transport; one call at a time: ./connection. Never logged: the session key, the certificate or its key.
 */
import type { Logger } from 'pino';
import pino from 'pino';
import type { KojiCallEvent, KojiClientOptions } from './client-options';
import { KojiConnection } from './connection';
import { toHost, toMultiCallResults, toTask, type KojiUser, type MultiCallRequest, type MultiCallResult } from './hub-shapes';
import type { KojiCallOptions, KojiClient, KojiHost, KojiTask } from './types';
import { TASK_STATES } from './types';
import { KojiProtocolError, type KojiFault } from './errors';
import { encodeArgs, type XmlRpcValue } from './xmlrpc';

export type { KojiOutageEvent } from './outage';
export type { KojiCallEvent, KojiClientOptions, KojiRetryPolicy } from './client-options';
export type { KojiUser, MultiCallRequest, MultiCallResult } from './hub-shapes';

const OPEN_TASKS = [TASK_STATES.OPEN, TASK_STATES.ASSIGNED];

export class KojiXmlRpcClient implements KojiClient {
  private readonly log: Logger;
  private readonly connection: KojiConnection;

  constructor(private readonly options: KojiClientOptions) {
    this.log = options.log ?? pino({ level: 'silent' });
    this.connection = new KojiConnection(options, this.log);
  }

  /** Whether the last calls failed to reach the hub (an outage is under way). */
  get hubDown(): boolean {
    return this.connection.hubDown;
  }

  /** How rekick logs in: 'ssl' or 'kerberos' (from the options and the koji profile). */
  get authtype(): 'ssl' | 'kerberos' {
    return this.connection.settings().authtype;
  }

  // ---- KojiClient ----

  getHost(name: string, opts: KojiCallOptions = {}): Promise<KojiHost | null> {
    return this.observed('getHost', async () => {
      const v = await this.connection.call({ method: 'getHost', args: [name], signal: opts.signal });
      return v === null ? null : toHost(v);
    });
  }

  listHosts(opts: { enabled?: boolean; arches?: string[]; channelID?: number } & KojiCallOptions = {}): Promise<KojiHost[]> {
    return this.observed('listHosts', async () => {
      const kwargs = { arches: opts.arches, channelID: opts.channelID, enabled: opts.enabled };
      const v = await this.connection.call({ method: 'listHosts', args: [], kwargs, signal: opts.signal });
      if (!Array.isArray(v)) throw new KojiProtocolError('listHosts did not return a list');
      return v.map(toHost);
    });
  }

  disableHost(name: string, opts: { comment?: string } & KojiCallOptions = {}): Promise<void> {
    return this.observed('disableHost', () => this.setEnabled('disableHost', name, opts));
  }

  enableHost(name: string, opts: { comment?: string } & KojiCallOptions = {}): Promise<void> {
    return this.observed('enableHost', () => this.setEnabled('enableHost', name, opts));
  }

  setHostComment(name: string, comment: string, opts: KojiCallOptions = {}): Promise<void> {
    return this.observed('setHostComment', async () => {
      await this.connection.call({ method: 'editHost', args: [name], kwargs: { comment }, signal: opts.signal, doneOnRetryError: true });
    });
  }

  listOpenTasks(hostId: number, opts: KojiCallOptions = {}): Promise<KojiTask[]> {
    return this.observed('listOpenTasks', async () => {
      // listTasks(opts, queryOpts), both positional, as the koji CLI's list-tasks sends them
      const args = [{ state: OPEN_TASKS, host_id: hostId }, { order: 'priority,create_time' }];
      const v = await this.connection.call({ method: 'listTasks', args, signal: opts.signal });
      if (!Array.isArray(v)) throw new KojiProtocolError('listTasks did not return a list');
      return v.map(toTask);
    });
  }

  /** How many OPEN/ASSIGNED tasks the host has (listTasks with queryOpts countOnly). */
  countOpenTasks(hostId: number, opts: KojiCallOptions = {}): Promise<number> {
    return this.observed('countOpenTasks', async () => {
      const args = [{ state: OPEN_TASKS, host_id: hostId }, { countOnly: true }];
      return Number(await this.connection.call({ method: 'listTasks', args, signal: opts.signal }));
    });
  }

  freeTask(taskId: number, opts: KojiCallOptions = {}): Promise<void> {
    return this.observed('freeTask', async () => {
      await this.connection.call({ method: 'freeTask', args: [taskId], signal: opts.signal, doneOnRetryError: true });
    });
  }

  /** Logs out (once); later calls fail. Never throws for a hub that is gone: it logs instead. */
  close(): Promise<void> {
    return this.observed('close', () => this.connection.close());
  }

  // ---- more of Koji's API ----

  /** getLoggedInUser: who rekick is on the hub (null when not logged in). */
  whoami(opts: KojiCallOptions = {}): Promise<KojiUser | null> {
    return this.observed('whoami', async () => (await this.connection.call({ method: 'getLoggedInUser', args: [], signal: opts.signal })) as KojiUser | null);
  }

  /** getPerms: the permissions of rekick's user (e.g. ['host']). */
  getPerms(opts: KojiCallOptions = {}): Promise<string[]> {
    return this.observed('getPerms', async () => {
      const v = await this.connection.call({ method: 'getPerms', args: [], signal: opts.signal });
      return Array.isArray(v) ? v.map(String) : [];
    });
  }

  getAPIVersion(opts: KojiCallOptions = {}): Promise<number> {
    return this.observed('getAPIVersion', async () => Number(await this.connection.call({ method: 'getAPIVersion', args: [], signal: opts.signal })));
  }

  /** Any hub method, by its Koji name. */
  callMethod(method: string, args: XmlRpcValue[] = [], kwargs?: Record<string, XmlRpcValue | undefined>, opts: KojiCallOptions = {}): Promise<XmlRpcValue> {
    return this.observed('callMethod', () => this.connection.call({ method, args, kwargs, signal: opts.signal }));
  }

  /** Koji's multiCall: one HTTP call (one call number), each call succeeding or failing on its own, results in order. */
  multiCall(calls: MultiCallRequest[], opts: KojiCallOptions = {}): Promise<MultiCallResult[]> {
    return this.observed('multiCall', () => this.multiCallNow(calls, opts));
  }

  /**
   * Checks rekick's Koji credentials without calling the hub (ssl: the certificate; kerberos: binding, keytab and
   * a service ticket). Throws KojiLoginError saying what to fix. Call it at start.
   */
  checkCredentials(): Promise<void> {
    return this.observed('checkCredentials', () => this.connection.checkCredentials());
  }

  // ---- internals ----

  private async multiCallNow(calls: MultiCallRequest[], opts: KojiCallOptions): Promise<MultiCallResult[]> {
    if (calls.length === 0) return [];
    const args = [calls.map((c) => ({ methodName: c.method, params: encodeArgs(c.args ?? [], c.kwargs) }))];
    return toMultiCallResults(await this.connection.call({ method: 'multiCall', args, signal: opts.signal }), calls);
  }

  /** With a comment: the enable/disable and editHost in one multiCall, as the koji CLI does. */
  private async setEnabled(method: 'enableHost' | 'disableHost', name: string, opts: { comment?: string } & KojiCallOptions): Promise<void> {
    if (opts.comment === undefined) {
      await this.connection.call({ method, args: [name], signal: opts.signal, doneOnRetryError: true });
      return;
    }
    const calls = [
      { method, args: [name] },
      { method: 'editHost', args: [name], kwargs: { comment: opts.comment } },
    ];
    const results = await this.multiCallNow(calls, opts);
    const failed = results.find((r): r is { ok: false; error: KojiFault } => !r.ok);
    if (failed) throw failed.error;
  }

  /** Runs one API call and tells `onCall` how it went (method, duration, error), never failing because of it. */
  private async observed<T>(method: string, run: () => Promise<T>): Promise<T> {
    const start = Date.now();
    try {
      const value = await run();
      this.report({ method, ms: Date.now() - start });
      return value;
    } catch (error) {
      this.report({ method, ms: Date.now() - start, error });
      throw error;
    }
  }

  private report(event: KojiCallEvent): void {
    try {
      this.options.onCall?.(event);
    } catch (err) {
      this.log.error({ err }, 'onCall listener failed');
    }
  }
}

/** Creates the client: the profile and the hub's CA are read now; nothing is sent until the first call. */
export function createKojiClient(options: KojiClientOptions): KojiXmlRpcClient {
  return new KojiXmlRpcClient(options);
}
