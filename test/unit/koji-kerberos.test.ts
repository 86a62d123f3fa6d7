/**
 * Kerberos settings without a KDC: koji profiles with authtype = kerberos, principal, keytab (read as the koji CLI
 * reads them, and used by the client); keytab parsing; the environment each GSSAPI call runs with (private
 * cache, client keytab, restored afterwards); a missing binding and KDC failures as typed, clear errors.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKojiClient } from '../../src/koji/client';
import { KojiLoginError } from '../../src/koji/errors';
import {
  KerberosLoginError,
  KerberosUnavailableError,
  explainGssError,
  readKeytabPrincipals,
  withKrb5Env,
  type KerberosBinding,
} from '../../src/koji/kerberos';
import { readKojiProfile } from '../../src/koji/profile';

let dir: string;
let home: string;
let sources: string[];

/** An MIT keytab (0x0502) with one entry per principal (keys are dummies). */
function keytabBytes(principals: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([5, 2])];
  const counted = (s: string) => {
    const b = Buffer.from(s);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length);
    return Buffer.concat([len, b]);
  };
  for (const p of principals) {
    const [name, realm] = p.split('@') as [string, string];
    const comps = name.split('/');
    const head = Buffer.alloc(2);
    head.writeUInt16BE(comps.length);
    const tail = Buffer.alloc(4 + 4 + 1 + 2);
    tail.writeUInt32BE(1, 0); // KRB5_NT_PRINCIPAL
    tail.writeUInt32BE(0, 4);
    tail.writeUInt8(1, 8);
    tail.writeUInt16BE(18, 9); // aes256-cts
    const key = Buffer.concat([Buffer.from([0, 32]), Buffer.alloc(32, 7), Buffer.from([0, 0, 0, 1])]);
    const entry = Buffer.concat([head, counted(realm), ...comps.map(counted), tail, key]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(entry.length);
    parts.push(size, entry);
  }
  return Buffer.concat(parts);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rekick-koji-krb-'));
  home = path.join(dir, 'home');
  await mkdir(path.join(home, '.koji'), { recursive: true });
  await writeFile(
    path.join(dir, 'koji.conf'),
    [
      '[fedora]',
      'server = https://koji.fedoraproject.org/kojihub',
      'weburl = https://koji.fedoraproject.org/koji',
      'authtype = kerberos',
      'principal = rekick/builders@FEDORAPROJECT.ORG',
      'keytab = ~/.koji/rekick.keytab',
      '',
      '[oldstyle]',
      'server = https://koji.example.org/kojihub',
      'authtype = password',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(home, '.koji/rekick.keytab'), keytabBytes(['rekick/builders@FEDORAPROJECT.ORG', 'host/b.example.org@FEDORAPROJECT.ORG']));
  sources = [path.join(dir, 'koji.conf')];
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A binding that records the environment each call saw, and makes tokens without a KDC. */
function recordingBinding(seen: Array<Record<string, string | undefined>>): () => Promise<KerberosBinding> {
  const snap = () => ({ KRB5_CLIENT_KTNAME: process.env.KRB5_CLIENT_KTNAME, KRB5CCNAME: process.env.KRB5CCNAME, KRB5_CONFIG: process.env.KRB5_CONFIG });
  return async () => ({
    GSS_MECH_OID_SPNEGO: 6,
    initializeClient: async (service, opts) => {
      seen.push({ ...snap(), service, principal: opts?.principal });
      return {
        contextComplete: false,
        step: async () => {
          seen.push(snap());
          return 'dG9rZW4=';
        },
      };
    },
    initializeServer: async () => {
      throw new Error('not used');
    },
  });
}

describe('koji profiles with authtype = kerberos', () => {
  it('reads authtype, principal and keytab (with ~ expanded) as the koji CLI does', () => {
    const p = readKojiProfile('fedora', { sources, home });
    expect(p).toMatchObject({
      server: 'https://koji.fedoraproject.org/kojihub',
      authtype: 'kerberos',
      principal: 'rekick/builders@FEDORAPROJECT.ORG',
      keytab: path.join(home, '.koji/rekick.keytab'),
    });
    expect(p.cert).toBeUndefined();
  });

  it('the client takes them from the profile and gets its token with that keytab, principal and a private cache', async () => {
    const seen: Array<Record<string, string | undefined>> = [];
    const before = { ...process.env };
    const c = createKojiClient({ profile: 'fedora', profilePaths: { sources, home }, kerberosBinding: recordingBinding(seen), krb5Config: '/etc/krb5-test.conf' });
    expect(c.authtype).toBe('kerberos');
    await c.checkCredentials();
    expect(seen[0]).toMatchObject({
      service: 'HTTP@koji.fedoraproject.org',
      principal: 'rekick/builders@FEDORAPROJECT.ORG',
      KRB5_CLIENT_KTNAME: `FILE:${path.join(home, '.koji/rekick.keytab')}`,
      KRB5_CONFIG: '/etc/krb5-test.conf',
    });
    expect(seen[0]!.KRB5CCNAME).toMatch(/^MEMORY:rekick-koji-/);
    expect(seen[1]).toMatchObject({ KRB5CCNAME: seen[0]!.KRB5CCNAME }); // the token step ran with the same cache
    // and the process environment is as it was
    for (const k of ['KRB5_CLIENT_KTNAME', 'KRB5CCNAME', 'KRB5_CONFIG']) expect(process.env[k]).toBe(before[k]);
  });

  it('an authtype rekick does not speak is refused with a clear error', async () => {
    const c = createKojiClient({ profile: 'oldstyle', profilePaths: { sources, home } });
    await expect(c.whoami()).rejects.toThrow(/authtype "password" is not supported by rekick: use ssl .* or kerberos/);
  });

  it('a principal missing from the keytab is refused before any KDC is asked', async () => {
    const seen: Array<Record<string, string | undefined>> = [];
    const c = createKojiClient({
      server: 'https://koji.example.org/kojihub',
      authtype: 'kerberos',
      principal: 'rekick@EXAMPLE.ORG',
      keytab: path.join(home, '.koji/rekick.keytab'),
      kerberosBinding: recordingBinding(seen),
    });
    await expect(c.checkCredentials()).rejects.toThrow(/holds no key for koji.principal rekick@EXAMPLE.ORG \(it holds rekick\/builders@FEDORAPROJECT.ORG, host\/b.example.org@FEDORAPROJECT.ORG\)/);
    expect(seen).toEqual([]);
  });
});

describe('keytabs, the environment lock and errors', () => {
  it('reads the principals of a keytab and refuses a file that is not one', async () => {
    expect(readKeytabPrincipals(path.join(home, '.koji/rekick.keytab'))).toEqual(['rekick/builders@FEDORAPROJECT.ORG', 'host/b.example.org@FEDORAPROJECT.ORG']);
    await writeFile(path.join(dir, 'junk'), 'hello');
    expect(() => readKeytabPrincipals(path.join(dir, 'junk'))).toThrow(/is not a Kerberos keytab/);
    expect(() => readKeytabPrincipals(path.join(dir, 'absent'))).toThrow(KojiLoginError);
  });

  it('runs krb5 work one at a time, each with its own variables, and restores them', async () => {
    process.env.KRB5CCNAME = 'FILE:/tmp/operator-cache';
    const order: string[] = [];
    const slow = withKrb5Env({ KRB5CCNAME: 'MEMORY:a' }, async () => {
      order.push(`a-start:${process.env.KRB5CCNAME}`);
      await new Promise((r) => setTimeout(r, 30));
      order.push(`a-end:${process.env.KRB5CCNAME}`);
    });
    const fastOne = withKrb5Env({ KRB5CCNAME: 'MEMORY:b' }, async () => {
      order.push(`b:${process.env.KRB5CCNAME}`);
      throw new Error('b failed');
    });
    await slow;
    await expect(fastOne).rejects.toThrow('b failed');
    expect(order).toEqual(['a-start:MEMORY:a', 'a-end:MEMORY:a', 'b:MEMORY:b']);
    expect(process.env.KRB5CCNAME).toBe('FILE:/tmp/operator-cache');
    delete process.env.KRB5CCNAME;
  });

  it('a missing GSSAPI binding is a typed error that says how to install it', async () => {
    const c = createKojiClient({
      server: 'https://koji.example.org/kojihub',
      authtype: 'kerberos',
      kerberosBinding: () => Promise.reject(new KerberosUnavailableError('is not installed')),
      retry: { maxElapsedMs: 0 },
    });
    const err = await c.whoami().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KerberosUnavailableError);
    expect(err).toMatchObject({ code: 'E_KOJI_KERBEROS_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/npm package "kerberos".*is not installed.*libkrb5-dev.*npm install kerberos/);
  });

  it('GSSAPI failures become errors that say what to check; an unreachable KDC is retryable', () => {
    const o = { principal: 'rekick@EXAMPLE.ORG', keytab: '/etc/rekick/rekick.keytab', target: 'HTTP@koji.example.org' };
    const kdc = explainGssError(new Error('Unspecified GSS failure.  Minor code may provide more information: Cannot contact any KDC for realm'), o);
    expect(kdc).toBeInstanceOf(KerberosLoginError);
    expect(kdc.retryable).toBe(true);
    expect(kdc.message).toMatch(/no Kerberos KDC answered/);
    const svc = explainGssError(new Error('Server HTTP/koji.example.org@EXAMPLE.ORG not found in Kerberos database'), o);
    expect(svc.retryable).toBe(false);
    expect(svc.message).toMatch(/no service principal for HTTP@koji.example.org: koji.server must name the hub/);
    const stale = explainGssError(new Error('Decrypt integrity check failed'), o);
    expect(stale.message).toMatch(/not rekick@EXAMPLE.ORG's current key/);
    const skew = explainGssError(new Error('Clock skew too great'), o);
    expect(skew.message).toMatch(/NTP/);
  });
});
