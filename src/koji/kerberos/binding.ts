/**
 * The `kerberos` npm package (mongodb's GSSAPI binding over MIT krb5), optional and loaded on first use, and the
 * process-wide lock around the krb5 environment: the binding reads KRB5_* variables on a worker thread, so each
 * GSSAPI operation runs alone with its own variables set, and the previous values are put back afterwards.
 */
import { KojiLoginError } from '../errors';

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
