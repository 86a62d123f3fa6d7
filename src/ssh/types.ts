/** The narrow remote-host interface the steps and drivers use; ssh2 implements it, tests may fake it. */

/** Where a host is reached. */
export interface HostTarget {
  name: string;
  address: string;
  port: number;
}

export interface ExecOptions {
  /** Kills the command (and fails with E_REMOTE_TIMEOUT) when it runs longer. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with each complete line of output (stdout and stderr), already redacted. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Data written to the command's stdin. */
  stdin?: string | Buffer;
  /** Resolve with the result even when the exit code is not 0 (default: reject with RemoteCommandError). */
  allowFailure?: boolean;
  /** Strings that must never appear in output kept or shown. */
  secrets?: string[];
}

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  /** The last lines of combined output. */
  tail: string[];
}

export interface WriteFileOptions {
  mode: number;
  owner?: string;
  /** Content is secret: never logged. */
  secret?: boolean;
}

export interface RemoteHost {
  readonly target: HostTarget;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Writes a file atomically (temp file then rename), creating missing parent directories. */
  writeFile(path: string, content: string | Buffer, options: WriteFileOptions): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  /** False once the connection is closed or lost (undefined: not known). */
  readonly open?: boolean;
  /** The SHA256 fingerprint of the host key this connection's host presented (undefined: not known). */
  readonly hostKey?: string;
  /**
   * Ends the connection. `keep`: the caller knows the host stays up, so its job's next connect to this host may
   * reuse the connection (see JobConnections); never after issuing a reboot. Outside a job it closes as usual.
   */
  close(options?: { keep?: boolean }): Promise<void>;
}

/**
 * How to treat a host key that differs from known_hosts:
 * - `strict`: fail.
 * - `accept-changed`: accept, record it in known_hosts and report it through `onKeyChanged`
 *   (only ever used in `wait-ssh` of a job that reinstalled this host, before a key was accepted).
 */
export type HostKeyMode = 'strict' | 'accept-changed';

export interface ConnectOptions {
  hostKeyMode: HostKeyMode;
  signal?: AbortSignal;
  /**
   * The host stays up (a virthost): the connection may be one shared with other jobs (SharedConnections), kept
   * open a while after its last user. Never for a host rekick reboots or reinstalls. Strict host keys only.
   */
  shared?: boolean;
  onKeyChanged?: (change: { previous?: string; fingerprint: string }) => void;
  /**
   * The host must present exactly this key (a SHA256 fingerprint), whatever known_hosts says and whatever
   * `hostKeyMode` allows: any other key fails with HostKeyPinnedError (E_HOST_KEY_PINNED), nothing is accepted or
   * recorded. A job pins the key its host came back with after the reinstall, from post-install on.
   */
  pin?: string;
}

export type ProbeResult = 'down' | 'port-open' | 'handshake' | 'key-mismatch';

export interface RemoteConnector {
  connect(target: HostTarget, options: ConnectOptions): Promise<RemoteHost>;
  /**
   * One attempt: TCP connect, then an SSH handshake whose host key is checked under `hostKeyMode`. With
   * `depth: 'tcp'` it stops after the TCP connect ('down' or 'port-open'), for callers that log in next anyway.
   */
  probe(target: HostTarget, options: ConnectOptions & { timeoutMs: number; depth?: 'tcp' | 'handshake' }): Promise<ProbeResult>;
  /** The SHA256 fingerprints known_hosts lists for the host (no connection made). Optional: not every connector has a known_hosts. */
  knownHostKeys?(target: HostTarget): Promise<string[]>;
}
