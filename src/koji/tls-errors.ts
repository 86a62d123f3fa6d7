/** TLS failures that retrying cannot fix, as errors that say what to change (at login and on ordinary calls). */
import { KojiLoginError, KojiProtocolError, type KojiError } from './errors';
import { classifyError, describeError } from './http-post';

export function serverCertError(err: unknown): KojiLoginError {
  return new KojiLoginError(
    `rekick does not trust the hub's certificate (${describeError(err)}): set koji.serverca to the CA that signed it, and make koji.server use the name in the certificate`,
    { cause: err },
  );
}

export function tlsError(err: unknown): KojiProtocolError {
  return new KojiProtocolError(`TLS with the hub failed (${describeError(err)}): check that koji.server names the hub's HTTPS address and port`, { cause: err });
}

/** The error a failed login connection ends with, or undefined when it is worth retrying. */
export function loginTlsFailure(err: unknown): KojiError | undefined {
  switch (classifyError(err)) {
    case 'server-cert':
      return serverCertError(err);
    case 'tls-version':
      return new KojiLoginError(
        `the hub does not accept rekick's TLS version for the login (${describeError(err)}): rekick logs in over TLS 1.2 because Node cannot answer TLS 1.3 post-handshake certificate requests; allow TLS 1.2 for /kojihub/ssllogin on the hub`,
        { cause: err },
      );
    case 'tls-other':
      return tlsError(err);
    case 'tls-alert':
      return new KojiLoginError(
        `the hub refused rekick's client certificate during the TLS handshake (${describeError(err)}): check that koji.cert is signed by a CA the hub trusts and has not expired`,
        { cause: err },
      );
    default:
      return undefined;
  }
}

/** The error a failed call connection ends with, or undefined when it is worth retrying. */
export function callTlsFailure(err: unknown): KojiError | undefined {
  const kind = classifyError(err);
  if (kind === 'server-cert') return serverCertError(err);
  if (kind === 'tls-other' || kind === 'tls-version') return tlsError(err);
  return undefined;
}
