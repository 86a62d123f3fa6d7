/**
 * Koji's faults as typed errors (one class per fault code rekick meets), plus the transport and login errors
 * of the client. Every message says what an operator should do; `faultString` keeps the hub's own words.
 */
import { CodedError } from '../errors';

/** Base of every error the Koji client throws. */
export class KojiError extends CodedError {
  /** Whether trying again later may help (isRetryable() reads this). */
  readonly retryable: boolean;
  constructor(code: string, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
}

/** A fault the hub answered with. */
export class KojiFault extends KojiError {
  static readonly faultCode: number = 1000;
  readonly faultCode: number;
  readonly faultString: string;
  readonly method: string;
  constructor(faultCode: number, faultString: string, method: string, code = 'E_KOJI_FAULT', hint?: string, retryable = false) {
    super(code, `Koji hub refused ${method}: ${faultString}${hint ? ` — ${hint}` : ''}`, { retryable });
    this.faultCode = faultCode;
    this.faultString = faultString;
    this.method = method;
  }
}

/** 1: an unexpected exception inside the hub. */
export class KojiHubException extends KojiFault {
  static override readonly faultCode = 1;
  constructor(s: string, m: string) {
    super(1, s, m, 'E_KOJI_HUB', "an internal error of the hub; see the hub's httpd error log");
  }
}
/** 1000 */
export class KojiGenericError extends KojiFault {
  static override readonly faultCode = 1000;
  constructor(s: string, m: string) {
    super(1000, s, m, 'E_KOJI_GENERIC');
  }
}
/** 1002 */
export class KojiAuthError extends KojiFault {
  static override readonly faultCode = 1002;
  constructor(s: string, m: string) {
    super(1002, s, m, 'E_KOJI_AUTH', "check koji.cert: its CN must be an existing, enabled Koji user, and the hub must trust its CA; with authtype kerberos, koji.principal must belong to an enabled Koji user (koji edit-user USER --add-krb PRINCIPAL, or koji add-user USER --principal PRINCIPAL)");
  }
}
/** 1004 */
export class KojiActionNotAllowed extends KojiFault {
  static override readonly faultCode = 1004;
  constructor(s: string, m: string) {
    super(1004, s, m, 'E_KOJI_NOT_ALLOWED', permissionHint(m));
  }
}
/** 1007: the session expired; the client logs in again by itself, callers rarely see it. */
export class KojiAuthExpired extends KojiFault {
  static override readonly faultCode = 1007;
  constructor(s: string, m: string) {
    super(1007, s, m, 'E_KOJI_AUTH_EXPIRED', 'the session expired and logging in again failed; check koji.cert (or koji.keytab with authtype kerberos)', true);
  }
}
/** 1008 */
export class KojiSequenceError extends KojiFault {
  static override readonly faultCode = 1008;
  constructor(s: string, m: string) {
    super(1008, s, m, 'E_KOJI_SEQUENCE', 'another program is using the same Koji session; restart rekick to get a session of its own');
  }
}
/** 1009: the hub already ran a call with this number (a retry after a lost answer) and will not run it twice. */
export class KojiRetryError extends KojiFault {
  static override readonly faultCode = 1009;
  constructor(s: string, m: string) {
    super(1009, s, m, 'E_KOJI_RETRY', 'the hub ran the call before the connection broke; check the result in Koji before trying again');
  }
}
/** 1014 */
export class KojiServerOffline extends KojiFault {
  static override readonly faultCode = 1014;
  constructor(s: string, m: string) {
    super(1014, s, m, 'E_KOJI_OFFLINE', 'the hub is offline for maintenance; rekick retries until it is back', true);
  }
}
/** 1019 */
export class KojiParameterError extends KojiFault {
  static override readonly faultCode = 1019;
  constructor(s: string, m: string) {
    super(1019, s, m, 'E_KOJI_PARAMETER', "the hub does not take these arguments; is it older than Koji 1.35? Report it to rekick's maintainers");
  }
}

const FAULTS = [
  KojiHubException,
  KojiGenericError,
  KojiAuthError,
  KojiActionNotAllowed,
  KojiAuthExpired,
  KojiSequenceError,
  KojiRetryError,
  KojiServerOffline,
  KojiParameterError,
];

function permissionHint(method: string): string {
  if (method === 'freeTask') return "freeing tasks needs Koji's admin permission: ask a Koji admin to free them, or grant it (koji grant-permission admin USER)";
  return "rekick's Koji user needs the host permission: koji grant-permission host USER";
}

/** Koji's convertFault: the typed error for a fault code (an unknown code stays a KojiFault). */
export function faultToError(faultCode: number, faultString: string, method: string): KojiFault {
  const cls = FAULTS.find((c) => c.faultCode === faultCode);
  return cls ? new cls(faultString, method) : new KojiFault(faultCode, faultString, method);
}

/** The hub did not answer (refused, reset, timed out, 5xx) after the client's retries. */
export class KojiUnreachableError extends KojiError {
  constructor(server: string, detail: string, options?: { cause?: unknown }) {
    super('E_KOJI_UNREACHABLE', `Koji hub ${server} did not answer (${detail}); check that the hub and its httpd are up and reachable from rekick`, {
      retryable: true,
      cause: options?.cause,
    });
  }
}

/** The hub answered with something that is not XML-RPC or an HTTP error that retrying will not fix. */
export class KojiProtocolError extends KojiError {
  readonly status?: number;
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super('E_KOJI_PROTOCOL', message, { cause: options.cause });
    this.status = options.status;
  }
}

/** rekick could not log in: the certificate was refused, is expired, or cannot be read. */
export class KojiLoginError extends KojiError {
  constructor(message: string, options?: { cause?: unknown; code?: string; retryable?: boolean }) {
    super(options?.code ?? 'E_KOJI_LOGIN', message, { cause: options?.cause, retryable: options?.retryable });
  }
}
