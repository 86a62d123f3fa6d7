/**
 * Getting a session: `sslLogin` POSTed to `<server>/ssllogin`, with the client certificate (ssl) or an
 * `Authorization: Negotiate` token for HTTP@<hub host> (kerberos, a fresh token per attempt). The login goes over
 * its own TLS 1.2 connection, where the hub can ask for the certificate by renegotiating (Node cannot answer
 * TLS 1.3 post-handshake auth). `renew` keeps an expired session's id; a refused renewal logs in afresh.
 */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { readClientPem } from './client-cert';
import type { KojiClientOptions } from './client-options';
import { KojiFault, KojiLoginError, KojiServerOffline, KojiUnreachableError } from './errors';
import type { HubSettings } from './hub-settings';
import type { HubTransport } from './hub-transport';
import { readAnswer } from './hub-transport';
import { postXml, type HttpAnswer } from './http-post';
import { KerberosLoginError, NegotiateTokenSource } from './kerberos';
import { sessionHeaders, type Session } from './session';
import { loginTlsFailure } from './tls-errors';
import { encodeArgs, encodeMethodCall, isStruct, type XmlRpcValue } from './xmlrpc';

export class SessionLogin {
  /** The session calls use (undefined before login, after close, or when it must be renewed). */
  session?: Session;
  private loggingIn?: Promise<Session>;
  private negotiate?: NegotiateTokenSource;

  constructor(
    private readonly transport: HubTransport,
    private readonly settings: () => HubSettings,
    private readonly options: KojiClientOptions,
    private readonly log: Logger,
  ) {}

  /** Logs in (or renews `old`); one login at a time, shared by concurrent callers. */
  login(signal?: AbortSignal, old?: Session): Promise<Session> {
    this.loggingIn ??= this.loginWithRetries(signal, old).finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  /**
   * Checks the credentials without calling the hub: for ssl the certificate (readable, with its key, in its
   * validity); for kerberos the binding, the keytab and a ticket for the hub's service from the KDC.
   */
  async checkCredentials(): Promise<void> {
    const s = this.settings();
    if (s.authtype === 'ssl') {
      readClientPem(s.certPath, s.certPem);
      return;
    }
    const source = this.negotiateSource();
    await source.check();
    await source.token(s.url.hostname);
  }

  private negotiateSource(): NegotiateTokenSource {
    if (!this.negotiate) {
      const s = this.settings();
      const o = this.options;
      this.negotiate = new NegotiateTokenSource({ principal: s.principal, keytab: s.keytab, ccache: o.ccache, krb5Config: o.krb5Config, binding: o.kerberosBinding, log: this.log });
    }
    return this.negotiate;
  }

  private async loginWithRetries(signal: AbortSignal | undefined, old: Session | undefined): Promise<Session> {
    const settings = this.settings();
    const { url, ca } = settings;
    const kerberos = settings.authtype === 'kerberos';
    const pem = kerberos ? undefined : readClientPem(settings.certPath, settings.certPem);
    const loginUrl = new URL(`${url.href.replace(/\/+$/, '')}/ssllogin`);
    const transport = this.transport;
    const start = Date.now();
    let renew = old;
    for (let attempt = 1; ; attempt++) {
      transport.throwIfClosedOrAborted(signal);
      const callnum = renew ? renew.callnum++ : 0;
      const headers = renew ? sessionHeaders(renew, callnum) : {};
      if (kerberos) {
        // a new token per attempt: the hub refuses a replayed one; an expired ticket is replaced from the keytab here
        try {
          headers.Authorization = `Negotiate ${await this.negotiateSource().token(url.hostname)}`;
        } catch (err) {
          if (err instanceof KerberosLoginError && err.transient) {
            await transport.failed(err, start, attempt, signal);
            continue;
          }
          throw err;
        }
      }
      const body = encodeMethodCall('sslLogin', encodeArgs([], renew ? { renew: true } : undefined));
      // a fresh connection each time: the hub asks for the certificate by renegotiating it
      const agent = loginAgent(url, ca, pem, this.options.loginMaxTlsVersion ?? 'TLSv1.2');
      let answer: HttpAnswer;
      try {
        answer = await postXml(loginUrl, body, { agent, headers, signal: transport.attemptSignal(signal) });
      } catch (err) {
        transport.throwIfClosedOrAborted(signal);
        const fatal = loginTlsFailure(err);
        if (fatal) throw fatal;
        await transport.failed(err, start, attempt, signal);
        continue;
      } finally {
        agent.destroy();
      }
      const refused = loginRefusal(answer, kerberos, loginUrl, url.hostname);
      if (refused) {
        transport.outage.answered();
        throw refused;
      }
      let value: XmlRpcValue;
      try {
        value = await readAnswer(answer, 'sslLogin', loginUrl);
      } catch (err) {
        if (err instanceof KojiUnreachableError) {
          await transport.failed(err, start, attempt, signal);
          continue;
        }
        if (renew && err instanceof KojiFault && !(err instanceof KojiServerOffline)) {
          // the old session cannot be renewed (closed, purged): a new session does as well
          this.log.info({ fault: err.faultCode }, 'Koji session renewal refused; logging in afresh');
          renew = undefined;
          continue;
        }
        if (err instanceof KojiServerOffline) {
          await transport.failed(err, start, attempt, signal);
          continue;
        }
        throw err;
      }
      transport.outage.answered();
      const session = sessionFrom(value, renew, loginUrl);
      this.session = session;
      this.log.info({ session: session.id, renewed: Boolean(renew) }, 'logged in to Koji');
      return session;
    }
  }
}

/** The login's own connection: with the client certificate for ssl, without for kerberos. */
function loginAgent(url: URL, ca: string | undefined, pem: string | undefined, maxVersion: 'TLSv1.2' | 'TLSv1.3'): http.Agent {
  if (url.protocol !== 'https:') return new http.Agent({ keepAlive: false });
  if (!pem) return new https.Agent({ keepAlive: false, ca });
  return new https.Agent({ keepAlive: false, ca, cert: pem, key: pem, maxVersion });
}

/** The hub refused the credentials (HTTP 401/403 for kerberos, 403 for ssl): what to check, or undefined. */
function loginRefusal(answer: HttpAnswer, kerberos: boolean, loginUrl: URL, hubHost: string): KojiLoginError | undefined {
  const refused = kerberos ? answer.status === 401 || answer.status === 403 : answer.status === 403;
  if (!refused) return undefined;
  const reason = answer.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
  if (kerberos) {
    return new KojiLoginError(
      `the hub refused rekick's Kerberos credentials at ${loginUrl.pathname} (HTTP ${answer.status}${reason ? `: ${reason}` : ''}): ` +
        `check that the hub accepts Negotiate at /kojihub/ssllogin for HTTP/${hubHost} (its keytab) and trusts rekick's realm`,
    );
  }
  return new KojiLoginError(
    `the hub refused rekick's client certificate at ${loginUrl.pathname} (HTTP 403${reason ? `: ${reason}` : ''}): ` +
      'check that koji.cert is signed by the CA the hub trusts and has not expired; ' +
      'a hub that asks for certificates only under TLS 1.3 post-handshake auth must also allow TLS 1.2 for /kojihub/ssllogin',
  );
}

/** The session sslLogin returned; a renewed session keeps its id and goes on counting (the hub remembers the last number). */
function sessionFrom(value: XmlRpcValue, renew: Session | undefined, loginUrl: URL): Session {
  if (!isStruct(value) || value['session-id'] === undefined || typeof value['session-key'] !== 'string') {
    throw new KojiLoginError(`sslLogin at ${loginUrl.href} did not return a session; is koji.server the hub's XML-RPC endpoint (…/kojihub)?`);
  }
  const id = Number(value['session-id']);
  return { id, key: value['session-key'], headerAuth: value['header-auth'] === true, callnum: renew && renew.id === id ? renew.callnum : 0 };
}
