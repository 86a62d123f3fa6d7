/** The narrow Koji interface the steps use; the XML-RPC client implements it, tests may fake it. */

/** Koji's task states, by number (koji.TASK_STATES). */
export const TASK_STATES = { FREE: 0, OPEN: 1, CLOSED: 2, CANCELED: 3, ASSIGNED: 4, FAILED: 5 } as const;

export interface KojiHost {
  id: number;
  name: string;
  arches: string;
  enabled: boolean;
  ready: boolean;
  comment: string | null;
  description?: string | null;
  task_load?: number;
  capacity?: number;
}

export interface KojiTask {
  id: number;
  method: string;
  state: number;
  host_id: number | null;
  create_time?: string;
  start_time?: string | null;
  owner_name?: string;
  arch?: string;
}

/** Optional per-call options: a signal to give up (a cancelled job); the client also bounds each call itself. */
export interface KojiCallOptions {
  signal?: AbortSignal;
}

export interface KojiClient {
  /** null for an unknown host (Koji returns nil, not a fault). */
  getHost(name: string, opts?: KojiCallOptions): Promise<KojiHost | null>;
  listHosts(opts?: { enabled?: boolean; arches?: string[]; channelID?: number } & KojiCallOptions): Promise<KojiHost[]>;
  /** With `comment`, the comment is set in the same round trip (a multiCall, as the koji CLI does). */
  disableHost(name: string, opts?: { comment?: string } & KojiCallOptions): Promise<void>;
  /** Leaves the comment as it was unless `comment` is given. */
  enableHost(name: string, opts?: { comment?: string } & KojiCallOptions): Promise<void>;
  /** Koji's editHost with a comment keyword argument. */
  setHostComment(name: string, comment: string, opts?: KojiCallOptions): Promise<void>;
  /** Tasks assigned to the host and not finished (OPEN or ASSIGNED). */
  listOpenTasks(hostId: number, opts?: KojiCallOptions): Promise<KojiTask[]>;
  /** Koji's freeTask: gives the task back to the scheduler (needs admin). */
  freeTask(taskId: number, opts?: KojiCallOptions): Promise<void>;
  /** Logs out of the hub (on shutdown). */
  close(): Promise<void>;
}
