/** What the Koji client is created with: rekick's koji config plus the seams tests and main.ts use. */
import type { Logger } from 'pino';
import type { KerberosBinding } from './kerberos';
import type { KojiOutageEvent } from './outage';
import type { ProfilePaths } from './profile';

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

export const DEFAULT_RETRY: KojiRetryPolicy = { baseMs: 1_000, maxMs: 60_000, jitter: 0.5, maxElapsedMs: 30 * 60_000, failuresBeforeDown: 2 };

/** One finished call of the client's API (by its method name, e.g. disableHost), for metrics. */
export interface KojiCallEvent {
  method: string;
  ms: number;
  /** Set when the call failed. */
  error?: unknown;
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
  /** Hears every finished API call (metrics). */
  onCall?: (event: KojiCallEvent) => void;
  /** Bound of one HTTP attempt (ms, default 60 s, like koji's auth_timeout). */
  callTimeoutMs?: number;
  retry?: Partial<KojiRetryPolicy>;
  /** Randomness for the jitter (tests). */
  random?: () => number;
  /** Highest TLS version for the login connection (default TLSv1.2: Node cannot answer TLS 1.3 post-handshake auth). */
  loginMaxTlsVersion?: 'TLSv1.2' | 'TLSv1.3';
  // Parts of rekick's koji config that the client does not use (the config is passed as is).
  weburl?: string;
  minEnabled?: Record<string, number>;
  pollInterval?: number;
}
