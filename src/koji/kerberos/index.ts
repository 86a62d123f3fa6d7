/** rekick's side of Kerberos login to Koji: the optional GSSAPI binding, keytabs, Negotiate tokens. */
export { KerberosLoginError, KerberosUnavailableError, loadKerberosBinding, withKrb5Env } from './binding';
export type { GssClientContext, GssServerContext, KerberosBinding } from './binding';
export { readKeytabPrincipals } from './keytab';
export { NegotiateTokenSource, explainGssError, type NegotiateOptions } from './negotiate';
