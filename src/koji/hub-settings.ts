/**
 * Where and how rekick reaches the hub, settled once when the client is created: the options, filled from the
 * koji CLI profile, and the hub's CA read. A failure is kept and thrown by every use, so a bad profile or CA is
 * reported by the first call (or checkCredentials at start).
 */
import { readFileSync } from 'node:fs';
import type { KojiClientOptions } from './client-options';
import { KojiLoginError } from './errors';
import { describeError } from './http-post';
import { readKojiProfile } from './profile';

export interface HubSettings {
  url: URL;
  certPath?: string;
  certPem?: string;
  ca?: string;
  authtype: 'ssl' | 'kerberos';
  principal?: string;
  keytab?: string;
}

/** Settles the settings now; the returned function gives them, or throws what went wrong. */
export function loadHubSettings(options: KojiClientOptions): () => HubSettings {
  try {
    const settings = resolveHubSettings(options);
    return () => settings;
  } catch (err) {
    return () => {
      throw err;
    };
  }
}

export function resolveHubSettings(o: KojiClientOptions): HubSettings {
  let server = o.server;
  let certPath = o.cert;
  let servercaPath = o.serverca;
  let authtypeText: string | undefined = o.authtype;
  let principal = o.principal;
  let keytab = o.keytab;
  if (o.profile && (!server || (!certPath && !o.certPem) || (!servercaPath && !o.servercaPem))) {
    const p = readKojiProfile(o.profile, o.profilePaths);
    server ??= p.server;
    certPath ??= p.cert;
    servercaPath ??= p.serverca;
    authtypeText ??= p.authtype;
    principal ??= p.principal;
    keytab ??= p.keytab;
  }
  if (authtypeText !== undefined && authtypeText !== 'ssl' && authtypeText !== 'kerberos') {
    throw new KojiLoginError(`Koji authtype "${authtypeText}" is not supported by rekick: use ssl (a client certificate) or kerberos (a keytab)`);
  }
  // koji's own rule, narrowed: ssl with a certificate; kerberos when a principal or keytab is all there is
  const authtype: 'ssl' | 'kerberos' = (authtypeText as 'ssl' | 'kerberos' | undefined) ?? (!certPath && !o.certPem && (principal || keytab) ? 'kerberos' : 'ssl');
  if (!server) throw new KojiLoginError('no Koji hub configured: set koji.server (or koji.profile)');
  let url: URL;
  try {
    url = new URL(server.replace(/\/+$/, ''));
  } catch (err) {
    throw new KojiLoginError(`koji.server "${server}" is not a URL: write it like https://koji.example.org/kojihub`, { cause: err });
  }
  return { url, certPath, certPem: o.certPem, ca: readServerCa(o.servercaPem, servercaPath), authtype, principal, keytab };
}

function readServerCa(pem: string | undefined, path: string | undefined): string | undefined {
  if (pem || !path) return pem;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new KojiLoginError(`cannot read koji.serverca ${path}: ${describeError(err)}; point it at the CA certificate that signed the hub's certificate`, { cause: err });
  }
}
