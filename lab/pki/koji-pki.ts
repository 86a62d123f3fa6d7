/**
 * The whole throwaway PKI a Koji lab or test needs, in one call: a CA, the hub's server certificate for
 * loopback, a client certificate per user (CN = Koji user name), one from another CA and an expired one.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestCa, issueClientCert, issueServerCert, type IssuedCert, type TestCa } from './test-ca';

export interface KojiTestPki {
  dir: string;
  ca: TestCa;
  /** The hub's certificate (CN localhost; SAN localhost, 127.0.0.1 and any extra names). */
  hub: IssuedCert;
  /** Client certificates by user name. */
  clients: Record<string, IssuedCert>;
  /** Another CA, and a client certificate it signed for `foreignCn` (the hub must refuse it). */
  otherCa: TestCa;
  foreign: IssuedCert;
  /** A certificate from the right CA whose validity has ended. */
  expired: IssuedCert;
}

export async function createKojiTestPki(options: {
  dir?: string;
  users: string[];
  hubNames?: string[];
  foreignCn?: string;
  expiredCn?: string;
}): Promise<KojiTestPki> {
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'rekick-pki-')));
  const [ca, otherCa] = await Promise.all([
    createTestCa(path.join(dir, 'ca'), { name: 'rekick test Koji CA' }),
    createTestCa(path.join(dir, 'other-ca'), { name: 'some other CA' }),
  ]);
  const hubNames = ['localhost', '127.0.0.1', ...(options.hubNames ?? [])];
  const [hub, foreign, expired, ...clientList] = await Promise.all([
    issueServerCert(ca, hubNames),
    issueClientCert(otherCa, options.foreignCn ?? options.users[0] ?? 'rekick'),
    issueClientCert(ca, options.expiredCn ?? options.users[0] ?? 'rekick', { expired: true, fileName: 'expired' }),
    ...options.users.map((u) => issueClientCert(ca, u)),
  ]);
  const clients = Object.fromEntries(options.users.map((u, i) => [u, clientList[i]!]));
  return { dir, ca, hub: hub!, clients, otherCa, foreign: foreign!, expired: expired! };
}
