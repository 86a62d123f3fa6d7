/**
 * A throwaway certificate authority for tests and the lab: a CA, a hub server certificate for loopback, and
 * client certificates (key and certificate in one PEM, as koji's `cert` option wants), including an expired
 * one. EC P-256 keys via the openssl CLI: a whole set takes well under a second.
 * Never for production: keys are unencrypted and the CA key sits next to the certificates.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openssl } from './openssl';

export interface TestCa {
  /** Directory holding the CA's key, certificate and database. */
  dir: string;
  name: string;
  certPath: string;
  keyPath: string;
  certPem: string;
}

export interface IssuedCert {
  certPath: string;
  keyPath: string;
  /** Certificate and key in one file (koji's `cert` option). */
  pemPath: string;
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  /** File stem under the CA's `issued/` directory; default derived from the CN. */
  fileName?: string;
  /** Validity in days from now (default 825). */
  days?: number;
  /** Issue a certificate whose validity ended in the past (for refusal tests). */
  expired?: boolean;
}

const CURVE = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

function caConfig(dir: string): string {
  // `openssl ca` is the CLI path that can set explicit start and end dates (openssl 3.0's x509 -req cannot).
  return `[ ca ]
default_ca = rekick_ca
[ rekick_ca ]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.pem
private_key = $dir/ca.key
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ policy_any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
[ server_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $ENV::REKICK_SAN
[ client_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
`;
}

function safeName(cn: string): string {
  return cn.replace(/[^A-Za-z0-9._-]/g, '_');
}

function asn1Time(d: Date): string {
  // YYYYMMDDHHMMSSZ (GeneralizedTime, accepted by openssl ca -startdate/-enddate)
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Creates a CA under `dir` (created if missing). */
export async function createTestCa(dir: string, options: { name?: string; days?: number } = {}): Promise<TestCa> {
  const name = options.name ?? 'rekick test CA';
  await mkdir(path.join(dir, 'newcerts'), { recursive: true });
  await mkdir(path.join(dir, 'issued'), { recursive: true });
  await writeFile(path.join(dir, 'index.txt'), '');
  await writeFile(path.join(dir, 'serial'), `${(Date.now() % 1e12).toString(16).padStart(16, '0')}\n`);
  await writeFile(path.join(dir, 'ca.cnf'), caConfig(dir));
  const keyPath = path.join(dir, 'ca.key');
  const certPath = path.join(dir, 'ca.pem');
  await openssl([
    'req', '-x509', '-new', ...CURVE, '-nodes', '-keyout', keyPath, '-out', certPath,
    '-days', String(options.days ?? 3650), '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { dir, name, certPath, keyPath, certPem: await readFile(certPath, 'utf8') };
}

/** `openssl ca` keeps a serial file and an index: one issuance at a time per CA. */
const queues = new Map<string, Promise<unknown>>();

function issue(ca: TestCa, cn: string, ext: 'server_ext' | 'client_ext', options: IssueOptions, san?: string): Promise<IssuedCert> {
  const prev = queues.get(ca.dir) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(() => issueNow(ca, cn, ext, options, san));
  queues.set(ca.dir, next);
  return next;
}

async function issueNow(ca: TestCa, cn: string, ext: 'server_ext' | 'client_ext', options: IssueOptions, san?: string): Promise<IssuedCert> {
  const stem = path.join(ca.dir, 'issued', options.fileName ?? safeName(cn));
  const keyPath = `${stem}.key`;
  const csrPath = `${stem}.csr`;
  const certPath = `${stem}.crt`;
  const pemPath = `${stem}.pem`;
  await openssl(['req', '-new', ...CURVE, '-nodes', '-keyout', keyPath, '-out', csrPath, '-subj', `/CN=${cn}`]);
  const now = Date.now();
  const start = options.expired ? new Date(now - 30 * 86_400_000) : new Date(now - 3_600_000);
  const end = options.expired ? new Date(now - 86_400_000) : new Date(now + (options.days ?? 825) * 86_400_000);
  // openssl reads the SAN from the environment ($ENV::REKICK_SAN); a placeholder keeps client issuing valid.
  await openssl(
    [
      'ca', '-batch', '-config', path.join(ca.dir, 'ca.cnf'), '-in', csrPath, '-out', certPath, '-notext',
      '-extensions', ext, '-startdate', asn1Time(start), '-enddate', asn1Time(end),
    ],
    { env: { REKICK_SAN: san ?? 'DNS:unused.invalid' } },
  );
  const certPem = await readFile(certPath, 'utf8');
  const keyPem = await readFile(keyPath, 'utf8');
  await writeFile(pemPath, certPem + keyPem, { mode: 0o600 });
  return { certPath, keyPath, pemPath, certPem, keyPem };
}

/** A server certificate for the hub: CN the first name, every name in subjectAltName (IPs as IP entries). */
export function issueServerCert(ca: TestCa, names: string[] = ['localhost', '127.0.0.1'], options: IssueOptions = {}): Promise<IssuedCert> {
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  return issue(ca, names[0]!, 'server_ext', { fileName: options.fileName ?? 'hub', ...options }, san);
}

/** A client certificate whose CN is the Koji user name (Koji's default DNUsernameComponent). */
export function issueClientCert(ca: TestCa, cn: string, options: IssueOptions = {}): Promise<IssuedCert> {
  return issue(ca, cn, 'client_ext', options);
}
