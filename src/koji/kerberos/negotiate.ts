/**
 * Negotiate (SPNEGO) tokens for the hub's service principal HTTP@<hub host>, as koji's requests-gssapi sends them,
 * from rekick's keytab without kinit: MIT krb5 gets (and renews) the ticket from KRB5_CLIENT_KTNAME into a private
 * in-memory cache, never an operator's. Without koji.keytab the ambient cache (kinit's) is used. Tokens are never logged.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import pino from 'pino';
import { KerberosLoginError, loadKerberosBinding, withKrb5Env, type KerberosBinding } from './binding';
import { keytabHolds, readKeytabPrincipals, samePrincipal } from './keytab';

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
