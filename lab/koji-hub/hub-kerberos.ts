/**
 * The hub stand-in's Kerberos side, as a Fedora-style hub runs it: Apache's mod_auth_gssapi at
 * /kojihub/ssllogin accepts `Authorization: Negotiate` against the service keytab and sets REMOTE_USER to the
 * client's principal; kojihub/auth.py sslLogin then maps that principal to a Koji user:
 * - AllowedKrbRealms ('*' or a comma list): a principal of another realm is an AuthError;
 * - the user whose krb principals (user_krb_principals) include it; else, with LoginCreatesUser, a user named
 *   after the part before '@' (created, or given the principal when it exists); else AuthError
 *   "Unknown user: <principal>".
 * Tokens are accepted with the `kerberos` package (initializeServer) against `keytab` (KRB5_KTNAME), under the
 * same process-wide environment lock as rekick's client side.
 */
import type { Logger } from 'pino';
import pino from 'pino';
import { FAULT, HubFault, type HubState, type HubUser } from './hub-state';
import { loadKerberosBinding, withKrb5Env, type KerberosBinding } from '../../src';

export interface HubKerberosOptions {
  /** The hub's service keytab (HTTP/<host>@REALM), as mod_auth_gssapi's GssapiCredStore keytab:… */
  keytab: string;
  /** KRB5_CONFIG of the realm (default: the process's). */
  krb5Config?: string;
  /** Acceptor name, e.g. HTTP@127.0.0.1; default: any key in the keytab (mod_auth_gssapi's default). */
  service?: string;
  /** Koji's AllowedKrbRealms: '*' (default) or a comma-separated list. */
  allowedRealms?: string;
  /** Koji's user_krb_principals: principal -> user name. */
  principals?: Record<string, string>;
  binding?: () => Promise<KerberosBinding>;
  log?: Logger;
}

export type NegotiateResult = { ok: true; principal: string; response?: string } | { ok: false; reason: string };

export class HubKerberos {
  /** principal -> user name */
  readonly principals = new Map<string, string>();
  private readonly log: Logger;

  constructor(private readonly options: HubKerberosOptions) {
    this.log = options.log ?? pino({ level: 'silent' });
    for (const [p, u] of Object.entries(options.principals ?? {})) this.principals.set(p, u);
  }

  /** mod_auth_gssapi: checks the Authorization header; the principal (REMOTE_USER) or why it was refused. */
  async accept(authorization: string | undefined): Promise<NegotiateResult> {
    const m = /^Negotiate\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    if (!m) return { ok: false, reason: authorization ? 'not a Negotiate authorization' : 'no Authorization header' };
    const binding = await (this.options.binding ?? loadKerberosBinding)();
    try {
      return await withKrb5Env(
        { KRB5_KTNAME: `FILE:${this.options.keytab}`, ...(this.options.krb5Config ? { KRB5_CONFIG: this.options.krb5Config } : {}) },
        async () => {
          const server = await binding.initializeServer(this.options.service ?? '');
          await server.step(m[1]!);
          if (!server.contextComplete || !server.username) return { ok: false as const, reason: 'GSSAPI context not complete' };
          return { ok: true as const, principal: server.username, response: server.response || undefined };
        },
      );
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.log.info({ reason }, 'Negotiate token refused');
      return { ok: false, reason };
    }
  }

  /** Koji's checkKrbPrincipal (AllowedKrbRealms). */
  checkPrincipal(principal: string): void {
    const allowed = this.options.allowedRealms ?? '*';
    if (allowed === '*') return;
    const realms = allowed.split(/\s*,\s*/);
    const at = principal.indexOf('@');
    if (at === -1 || at === principal.length - 1) throw new HubFault(FAULT.AuthError, `invalid Kerberos principal: ${principal}`);
    const realm = principal.slice(at + 1);
    if (!realms.includes(realm)) throw new HubFault(FAULT.AuthError, `Kerberos principal's realm: ${realm} is not allowed`);
  }

  /** Koji's getUserIdFromKerberos: the user holding this principal, if any. */
  userFor(state: HubState, principal: string): HubUser | undefined {
    this.checkPrincipal(principal);
    const name = this.principals.get(principal);
    return name === undefined ? undefined : state.userByName(name);
  }

  /** Koji's createUserFromKerberos: the user named before '@', created or given the principal. */
  createUserFor(state: HubState, principal: string): HubUser {
    const at = principal.indexOf('@');
    if (at === -1) throw new HubFault(FAULT.AuthError, `invalid Kerberos principal: ${principal}`);
    const name = principal.slice(0, at);
    const user = state.userByName(name) ?? state.addUser(name);
    this.principals.set(principal, name);
    return user;
  }

  /** Koji's setKrbPrincipal (koji edit-user USER --add-krb PRINCIPAL). */
  addPrincipal(state: HubState, user: string, principal: string): void {
    if (!state.userByName(user)) throw new HubFault(FAULT.AuthError, `No such user: ${user}`);
    this.principals.set(principal, user);
  }

  principalsOf(user: string): string[] {
    return [...this.principals].filter(([, u]) => u === user).map(([p]) => p);
  }
}
