/**
 * A real MIT Kerberos KDC on loopback for tests: its own realm in a temp dir (own krb5.conf and kdc.conf, so the
 * machine's /etc/krb5.conf is never read), `kdb5_util create -s`, principals added with `kadmin.local`
 * (`addprinc -randkey`, `ktadd -k`), and `krb5kdc -n` in the foreground on a free port of 127.0.0.1. No DNS:
 * dns_lookup_kdc/realm false, rdns false, dns_canonicalize_hostname false.
 * `stop()` kills the KDC and removes the directory.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/free-port';

const run = promisify(execFile);

export const KDC_BINARIES = ['/usr/sbin/krb5kdc', '/usr/sbin/kdb5_util', '/usr/sbin/kadmin.local'];

export interface TestKdcOptions {
  realm?: string;
  /** libdefaults clockskew in seconds (MIT's default is 300; short-ticket tests need it small). */
  clockskewSeconds?: number;
}

export interface TestKdc {
  realm: string;
  port: number;
  dir: string;
  /** KRB5_CONFIG for clients and services of this realm. */
  krb5Config: string;
  /** The environment kadmin.local and krb5kdc run with. */
  env: NodeJS.ProcessEnv;
  /** addprinc -randkey; `maxLife` e.g. '10 seconds' (the principal's ticket lifetime cap). */
  addPrincipal(name: string, options?: { maxLife?: string }): Promise<string>;
  /** ktadd -k into a new keytab file (new random keys: earlier keytabs of this principal stop working). */
  keytab(principal: string, file?: string): Promise<string>;
  kadmin(query: string): Promise<string>;
  /** The KDC's log (for failure messages). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** The KDC listens on UDP too: its port must be free there as well. */
function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function waitForTcp(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`krb5kdc exited with ${child.exitCode}`));
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`krb5kdc did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startTestKdc(options: TestKdcOptions = {}): Promise<TestKdc> {
  const missing = KDC_BINARIES.filter((b) => !existsSync(b));
  if (missing.length) throw new Error(`MIT Kerberos KDC not installed (missing ${missing.join(', ')}): apt-get install krb5-kdc krb5-admin-server krb5-user`);
  const realm = options.realm ?? 'REKICK.TEST';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rekick-kdc-'));
  const krb5Config = path.join(dir, 'krb5.conf');
  const kdcProfile = path.join(dir, 'kdc.conf');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    KRB5_CONFIG: krb5Config,
    KRB5_KDC_PROFILE: kdcProfile,
    KRB5CCNAME: `FILE:${path.join(dir, 'ccache-admin')}`,
  };
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child?.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let tries = 1; ; tries++) {
      const port = await freePort('127.0.0.1', udpFree);
      await writeFile(
        krb5Config,
        [
          '[libdefaults]',
          `  default_realm = ${realm}`,
          '  dns_lookup_kdc = false',
          '  dns_lookup_realm = false',
          '  rdns = false',
          '  dns_canonicalize_hostname = false',
          '  udp_preference_limit = 1',
          `  clockskew = ${options.clockskewSeconds ?? 300}`,
          '  forwardable = false',
          `  default_ccache_name = FILE:${path.join(dir, 'ccache-default')}`,
          `  default_keytab_name = FILE:${path.join(dir, 'default.keytab')}`,
          `  default_client_keytab_name = FILE:${path.join(dir, 'default-client.keytab')}`,
          '[realms]',
          `  ${realm} = {`,
          `    kdc = 127.0.0.1:${port}`,
          '  }',
          '[domain_realm]',
          `  127.0.0.1 = ${realm}`,
          `  localhost = ${realm}`,
          '',
        ].join('\n'),
      );
      await writeFile(
        kdcProfile,
        [
          '[kdcdefaults]',
          `  kdc_listen = 127.0.0.1:${port}`,
          `  kdc_tcp_listen = 127.0.0.1:${port}`,
          '[realms]',
          `  ${realm} = {`,
          `    database_name = ${path.join(dir, 'principal')}`,
          `    key_stash_file = ${path.join(dir, 'stash')}`,
          `    acl_file = ${path.join(dir, 'kadm5.acl')}`,
          `    admin_keytab = ${path.join(dir, 'kadm5.keytab')}`,
          '    max_life = 1h',
          '    max_renewable_life = 0',
          '    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal',
          '  }',
          '[logging]',
          `  kdc = FILE:${path.join(dir, 'kdc.log')}`,
          `  default = FILE:${path.join(dir, 'kdc.log')}`,
          '',
        ].join('\n'),
      );
      await writeFile(path.join(dir, 'kadm5.acl'), '');
      if (!existsSync(path.join(dir, 'stash'))) {
        await run('/usr/sbin/kdb5_util', ['-r', realm, 'create', '-s', '-P', `master-${process.pid}-${Date.now()}`], { env });
      }
      const kdc = spawn('/usr/sbin/krb5kdc', ['-n', '-r', realm], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = kdc;
      let output = '';
      kdc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      kdc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      try {
        await waitForTcp(port, kdc, 10_000);
      } catch (err) {
        kdc.kill('SIGKILL');
        if (tries < 3) continue; // someone took the port between the probe and the KDC's bind
        throw new Error(`${(err as Error).message}: ${output.trim()}`);
      }
      const kadmin = async (query: string) => {
        const { stdout, stderr } = await run('/usr/sbin/kadmin.local', ['-r', realm, '-q', query], { env });
        // kadmin.local reports failures in com_err's form on stderr ("add_principal: ... while creating ...")
        const failure = stderr.split('\n').find((l) => /^[\w.]+: .+ while /.test(l));
        if (failure) throw new Error(`kadmin.local "${query}": ${failure.trim()}`);
        return stdout + stderr;
      };
      const api: TestKdc = {
        realm,
        port,
        dir,
        krb5Config,
        env,
        kadmin,
        async addPrincipal(name, o = {}) {
          const full = name.includes('@') ? name : `${name}@${realm}`;
          await kadmin(`addprinc -randkey ${o.maxLife ? `-maxlife "${o.maxLife}" ` : ''}${full}`);
          return full;
        },
        async keytab(principal, file) {
          const full = principal.includes('@') ? principal : `${principal}@${realm}`;
          const out = file ?? path.join(dir, `${full.replace(/[^A-Za-z0-9.-]/g, '_')}-${Date.now()}.keytab`);
          await kadmin(`ktadd -k ${out} ${full}`);
          if (!existsSync(out)) throw new Error(`kadmin.local did not write ${out}`);
          return out;
        },
        log: () => readFile(path.join(dir, 'kdc.log'), 'utf8').catch(() => ''),
        stop,
      };
      return api;
    }
  } catch (err) {
    await stop();
    throw err;
  }
}
