/**
 * rekick's side of Kerberos login to Koji: an HTTP `Authorization: Negotiate` token (SPNEGO, as koji's
 * requests-gssapi sends) for the hub's service principal HTTP@<hub host>, from rekick's own keytab, without
 * kinit and without a password. Done with the npm package `kerberos` (mongodb's GSSAPI binding over MIT krb5),
 * loaded on first use; a clear typed error when it is missing.
 *
 * How the keytab is used: MIT krb5 acquires initial credentials from the client keytab named by
 * KRB5_CLIENT_KTNAME when the credential cache holds no valid ticket for the principal, and gets a new one the
 * same way when the ticket has expired. Each source gets a private in-memory cache (KRB5CCNAME=MEMORY:…) so it
 * never reads or overwrites an operator's ticket cache. The environment is process-wide and the binding reads it
 * on a worker thread, so every GSSAPI operation runs under one process-wide lock with its own variables set
 * (withKrb5Env), and the previous values are put back afterwards.
 * Without koji.keytab the ambient credential cache (kinit's) is used, as the koji CLI does.
 * Never logged: tokens.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import pino from 'pino';
import { KojiLoginError } from './errors';

/** The part of the `kerberos` package rekick uses (typed here: the package is optional). */
export interface GssClientContext {
  step(challenge: string): Promise<string>;
  contextComplete: boolean;
}
export interface GssServerContext {
  step(challenge: string): Promise<string>;
  username: string;
  response: string;
  contextComplete: boolean;
}
export interface KerberosBinding {
  initializeClient(service: string, options?: { principal?: string; mechOID?: number; gssFlag?: number }): Promise<GssClientContext>;
  initializeServer(service: string): Promise<GssServerContext>;
  GSS_MECH_OID_SPNEGO: number;
}

/** koji.authtype kerberos, but the GSSAPI binding is not installed or did not build. */
export class KerberosUnavailableError extends KojiLoginError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `koji.authtype kerberos needs the npm package "kerberos" (a GSSAPI binding), which ${detail}: ` +
        'install libkrb5-dev and a C++ compiler, then run `npm install kerberos` in rekick\'s directory (npm ci builds it when libkrb5-dev is present)',
      { cause: options?.cause, code: 'E_KOJI_KERBEROS_UNAVAILABLE' },
    );
  }
}

/** Getting a Kerberos ticket or token failed; the message says what to check. `retryable` when the KDC did not answer. */
export class KerberosLoginError extends KojiLoginError {
  readonly gssMessage: string;
  readonly transient: boolean;
  constructor(message: string, gssMessage: string, transient: boolean, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause, code: 'E_KOJI_KERBEROS', retryable: transient });
    this.gssMessage = gssMessage;
    this.transient = transient;
  }
}

let bindingPromise: Promise<KerberosBinding> | undefined;

/** Loads the `kerberos` package once; KerberosUnavailableError when it cannot be. */
export function loadKerberosBinding(): Promise<KerberosBinding> {
  bindingPromise ??= (async () => {
    const name = 'kerberos'; // a variable: the package is optional, tsc must not require it
    let mod: { default?: KerberosBinding } & Partial<KerberosBinding>;
    try {
      mod = (await import(name)) as typeof mod;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
      throw new KerberosUnavailableError(notFound ? 'is not installed' : `failed to load (${(err as Error).message})`, { cause: err });
    }
    const k = (mod.initializeClient ? mod : mod.default) as KerberosBinding | undefined;
    if (!k || typeof k.initializeClient !== 'function' || typeof k.initializeServer !== 'function') {
      throw new KerberosUnavailableError('does not have initializeClient/initializeServer (an unexpected version)');
    }
    return k;
  })();
  bindingPromise.catch(() => {
    bindingPromise = undefined; // let a later call try again (e.g. after npm install)
  });
  return bindingPromise;
}

// ---- the process-wide lock around the krb5 environment ----

let envTail: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` with these environment variables set (undefined: unset), no other krb5 operation of this process in
 * between, and the previous values restored afterwards.
 */
export function withKrb5Env<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const task = async () => {
    const saved = new Map<string, string | undefined>();
    for (const [k, v] of Object.entries(vars)) {
      saved.set(k, process.env[k]);
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    try {
      return await fn();
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };
  const next = envTail.then(task, task);
  envTail = next.catch(() => undefined);
  return next;
}

// ---- keytabs ----

/**
 * The principals in an MIT keytab file (format 0x0502, also 0x0501), for error messages and checks before any
 * KDC is asked. Throws KojiLoginError when the file cannot be read or is not a keytab.
 */
export function readKeytabPrincipals(file: string): string[] {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new KojiLoginError(`cannot read koji.keytab ${file}: ${(err as Error).message}; give rekick a keytab for its principal (readable by the user rekick runs as)`, { cause: err });
  }
  const bad = (why: string) => new KojiLoginError(`koji.keytab ${file} is not a Kerberos keytab (${why}): export one with kadmin's ktadd -k or ipa-getkeytab`);
  if (buf.length < 2 || buf[0] !== 5 || (buf[1] !== 1 && buf[1] !== 2)) throw bad('wrong header');
  const v1 = buf[1] === 1;
  const principals: string[] = [];
  let off = 2;
  while (off + 4 <= buf.length) {
    const size = buf.readInt32BE(off);
    off += 4;
    if (size === 0) break;
    if (size < 0) {
      off += -size; // a deleted entry (hole)
      continue;
    }
    const end = off + size;
    if (end > buf.length) throw bad('truncated entry');
    let p = off;
    const u16 = () => {
      const v = buf.readUInt16BE(p);
      p += 2;
      return v;
    };
    const str = () => {
      const n = u16();
      const s = buf.toString('utf8', p, p + n);
      p += n;
      return s;
    };
    let count = u16();
    if (v1) count -= 1;
    const realm = str();
    const parts: string[] = [];
    for (let i = 0; i < count; i++) parts.push(str());
    const principal = `${parts.join('/')}@${realm}`;
    if (!principals.includes(principal)) principals.push(principal);
    off = end;
  }
  return principals;
}

// ---- the client side ----

export interface NegotiateOptions {
  /** rekick's principal, e.g. rekick@FEDORAPROJECT.ORG (koji.principal); default: the keytab's or ccache's. */
  principal?: string;
  /** rekick's keytab (koji.keytab); without it the ambient credential cache is used. */
  keytab?: string;
  /** Credential cache to use (default: a private MEMORY cache when a keytab is given, else the ambient one). */
  ccache?: string;
  /** KRB5_CONFIG for this source (default: the process's, i.e. /etc/krb5.conf). */
  krb5Config?: string;
  /** Service of the hub's principal (default HTTP, as mod_auth_gssapi and koji's client use). */
  service?: string;
  log?: Logger;
  /** The GSSAPI binding (default: the `kerberos` package). */
  binding?: () => Promise<KerberosBinding>;
}

/** Turns a GSSAPI failure into what an operator should check. */
export function explainGssError(err: unknown, o: { principal?: string; keytab?: string; target: string }): KerberosLoginError {
  const msg = err instanceof Error ? err.message : String(err);
  const who = o.principal ?? 'rekick\'s principal';
  const kt = o.keytab ? `koji.keytab ${o.keytab}` : 'the credential cache (no koji.keytab)';
  let hint: string;
  let transient = false;
  if (/Cannot contact any KDC|Cannot find KDC|Resource temporarily unavailable|Connection refused/i.test(msg)) {
    hint = "no Kerberos KDC answered: check the realm's kdc entries in krb5.conf and that the KDC is reachable from rekick";
    transient = true;
  } else if (/Can't find client principal|No Kerberos credentials available|No credentials cache found|Matching credential not found|credentials cache file .* not found/i.test(msg)) {
    hint = o.keytab
      ? `${kt} holds no key for ${who}${keytabHolds(o.keytab)}: export a keytab for ${who} (kadmin ktadd -k, or ipa-getkeytab) or fix koji.principal`
      : `no Kerberos ticket for ${who}: set koji.keytab to rekick's keytab (or run kinit as rekick's user)`;
  } else if (/Decrypt integrity check failed|Preauthentication failed|Key version number for principal in key table is incorrect|No key table entry found/i.test(msg)) {
    hint = `the key in ${kt} is not ${who}'s current key (the principal was re-keyed or the keytab belongs to another realm): export a fresh keytab`;
  } else if (/Client .* not found in Kerberos database/i.test(msg)) {
    hint = `the KDC does not know ${who}: fix koji.principal or ask the Kerberos admins to create it`;
  } else if (/Server .* not found in Kerberos database/i.test(msg)) {
    hint = `the KDC has no service principal for ${o.target}: koji.server must name the hub by the host name of its HTTP/ principal`;
  } else if (/Clock skew too great/i.test(msg)) {
    hint = "rekick's clock differs from the KDC's by more than the allowed skew: fix the time (NTP)";
  } else if (/expired/i.test(msg)) {
    hint = `${who}'s credentials have expired and cannot be renewed without a keytab: set koji.keytab`;
  } else {
    hint = `check koji.principal, koji.keytab and krb5.conf (try: KRB5_CLIENT_KTNAME=${o.keytab ?? 'KEYTAB'} kinit -k ${o.principal ?? ''})`;
  }
  return new KerberosLoginError(`Kerberos login to the Koji hub (${o.target}) failed: ${msg} — ${hint}`, msg, transient, { cause: err });
}

function keytabHolds(file: string): string {
  try {
    const ps = readKeytabPrincipals(file);
    return ps.length ? ` (it holds ${ps.join(', ')})` : ' (it is empty)';
  } catch {
    return '';
  }
}

/** Makes Negotiate tokens for one Koji client; each token is for one request (the hub refuses replays). */
export class NegotiateTokenSource {
  private readonly log: Logger;
  private readonly env: Record<string, string | undefined>;
  readonly principal?: string;
  readonly keytab?: string;

  constructor(private readonly options: NegotiateOptions) {
    this.log = options.log ?? pino({ level: 'silent' });
    this.principal = options.principal;
    this.keytab = options.keytab;
    const ccache = options.ccache ?? (options.keytab ? `MEMORY:rekick-koji-${process.pid}-${randomBytes(6).toString('hex')}` : undefined);
    this.env = {};
    if (options.keytab) this.env.KRB5_CLIENT_KTNAME = `FILE:${options.keytab}`;
    if (ccache) this.env.KRB5CCNAME = ccache;
    if (options.krb5Config) this.env.KRB5_CONFIG = options.krb5Config;
  }

  /**
   * Checks what can be checked without the KDC: the binding loads, the keytab is a keytab and holds the
   * principal. Throws KojiLoginError (KerberosUnavailableError) with what to fix.
   */
  async check(): Promise<void> {
    await (this.options.binding ?? loadKerberosBinding)();
    if (!this.keytab) return;
    const held = readKeytabPrincipals(this.keytab);
    if (held.length === 0) throw new KerberosLoginError(`koji.keytab ${this.keytab} holds no keys: export rekick's key into it (kadmin ktadd -k, or ipa-getkeytab)`, 'empty keytab', false);
    if (this.principal && !held.some((p) => samePrincipal(p, this.principal!))) {
      throw new KerberosLoginError(
        `koji.keytab ${this.keytab} holds no key for koji.principal ${this.principal} (it holds ${held.join(', ')}): give rekick the keytab of its own principal, or fix koji.principal`,
        'principal not in keytab',
        false,
      );
    }
  }

  /** A Negotiate token (base64, for `Authorization: Negotiate <token>`) for service@host. */
  async token(host: string): Promise<string> {
    const binding = await (this.options.binding ?? loadKerberosBinding)();
    const target = `${this.options.service ?? 'HTTP'}@${host}`;
    try {
      return await withKrb5Env(this.env, async () => {
        const ctx = await binding.initializeClient(target, {
          ...(this.principal ? { principal: this.principal } : {}),
          mechOID: binding.GSS_MECH_OID_SPNEGO,
        });
        const token = await ctx.step('');
        if (!token) throw new Error('GSSAPI produced no initial token');
        return token;
      });
    } catch (err) {
      const e = explainGssError(err, { principal: this.principal, keytab: this.keytab, target });
      this.log.warn({ target, principal: this.principal, error: e.gssMessage }, 'Kerberos token for the Koji hub failed');
      throw e;
    }
  }
}

/** Principals compare with the realm exactly and a realm-less name matching any realm. */
function samePrincipal(full: string, given: string): boolean {
  if (given.includes('@')) return full === given;
  return full.slice(0, full.lastIndexOf('@')) === given;
}
