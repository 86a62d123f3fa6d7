/**
 * Who /kojihub/ssllogin says the caller is, as Koji's documented Apache does it: a client certificate asked for
 * by TLS 1.2 renegotiation (mod_ssl; TLS 1.3 refused with 403, Node cannot do post-handshake auth), or
 * `Authorization: Negotiate` when the hub runs with Kerberos (mod_auth_gssapi).
 */
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { HubKerberos } from './hub-kerberos';

/** What the web server hands the hub: the SSL_CLIENT_VERIFY / SSL_CLIENT_S_DN_CN or REMOTE_USER variables. */
export interface LoginIdentity {
  clientVerify?: string;
  clientCN?: string;
  remoteUser?: string;
  /** Headers the answer must carry (the Negotiate reply token). */
  replyHeaders: Record<string, string>;
}

/** A refusal at the web server, before the hub sees the call. */
export interface LoginRefusal {
  status: number;
  text: string;
  headers?: Record<string, string>;
}

export async function loginLocationAuth(req: http.IncomingMessage, kerberos: HubKerberos | undefined, log: Logger): Promise<LoginIdentity | LoginRefusal> {
  const socket = req.socket as TLSSocket;
  if (kerberos) {
    // <Location /kojihub/ssllogin> AuthType GSSAPI, Require valid-user (mod_auth_gssapi)
    const a = await kerberos.accept(req.headers.authorization);
    if (!a.ok) {
      log.info({ reason: a.reason }, 'Negotiate refused');
      return { status: 401, text: `Unauthorized: Kerberos (Negotiate) authentication required (${a.reason})`, headers: { 'WWW-Authenticate': 'Negotiate' } };
    }
    return { remoteUser: a.principal, replyHeaders: a.response ? { 'WWW-Authenticate': `Negotiate ${a.response}` } : {} };
  }
  // <Location /kojihub/ssllogin> SSLVerifyClient require
  if (socket.getProtocol() === 'TLSv1.3') {
    return {
      status: 403,
      text: 'Forbidden: this location needs a client certificate, and the client does not offer TLS 1.3 post-handshake authentication (cannot perform post-handshake authentication)',
    };
  }
  const v = await askClientCertificate(socket);
  if (v.verify !== 'SUCCESS') {
    log.info({ verify: v.verify, cn: v.cn }, 'client certificate refused');
    return { status: 403, text: `Forbidden: client certificate verification failed (${v.verify === 'NONE' ? 'no certificate sent' : v.verify.replace(/^FAILED:/, '')})` };
  }
  return { clientVerify: v.verify, clientCN: v.cn, replyHeaders: {} };
}

export function isRefusal(r: LoginIdentity | LoginRefusal): r is LoginRefusal {
  return 'status' in r;
}

/** Renegotiates the TLS 1.2 connection to ask for the client certificate, as mod_ssl does per location. */
function askClientCertificate(socket: TLSSocket): Promise<{ verify: string; cn?: string }> {
  return new Promise((resolve) => {
    const settle = () => {
      const peer = socket.getPeerCertificate();
      const cn = peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined;
      if (!cn) return resolve({ verify: 'NONE' });
      resolve(socket.authorized ? { verify: 'SUCCESS', cn } : { verify: `FAILED:${String(socket.authorizationError)}`, cn });
    };
    const existing = socket.getPeerCertificate();
    if (existing && existing.subject) return settle();
    const timer = setTimeout(() => resolve({ verify: 'NONE' }), 5_000);
    const ok = socket.renegotiate({ requestCert: true, rejectUnauthorized: false }, (err) => {
      clearTimeout(timer);
      if (err) resolve({ verify: `FAILED:${err.message}` });
      else settle();
    });
    if (!ok) {
      clearTimeout(timer);
      resolve({ verify: 'FAILED:renegotiation refused' });
    }
  });
}
