/** rekick's client certificate, checked before the hub sees it: readable, with its key, within its validity. */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KojiLoginError } from './errors';
import { describeError } from './http-post';

/**
 * The PEM holding certificate and key. Read at each login (not once): a certificate renewed on disk is used at
 * the next login without a restart.
 */
export function readClientPem(certPath: string | undefined, certPem: string | undefined, now = Date.now()): string {
  let pem = certPem;
  const where = certPath ?? 'the client certificate';
  if (!pem) {
    if (!certPath) throw new KojiLoginError('no client certificate: set koji.cert to a PEM holding rekick\'s certificate and key');
    try {
      pem = readFileSync(certPath, 'utf8');
    } catch (err) {
      throw new KojiLoginError(`cannot read koji.cert ${certPath}: ${describeError(err)}`, { cause: err });
    }
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
    createPrivateKey(pem);
  } catch (err) {
    throw new KojiLoginError(`${where} must hold both the certificate and its private key (PEM, unencrypted): ${describeError(err)}`, { cause: err });
  }
  const cn = /CN=([^\n,]+)/.exec(cert.subject)?.[1] ?? cert.subject;
  if (Date.parse(cert.validTo) < now) {
    throw new KojiLoginError(`rekick's client certificate ${where} (CN=${cn}) expired on ${new Date(cert.validTo).toISOString()}: issue a new one from the CA the hub trusts`);
  }
  if (Date.parse(cert.validFrom) > now) {
    throw new KojiLoginError(`rekick's client certificate ${where} (CN=${cn}) is not valid before ${new Date(cert.validFrom).toISOString()}: check this machine's clock`);
  }
  return pem;
}
