/**
 * A Koji hub stand-in in the bench's own process (so the bench can read its `calls`), with a throwaway PKI, and a
 * rekick config file pointing at it. Hosts are bare-metal builders whose SSH port answers nothing: benchmarks that
 * use it measure the Koji side of a job and cancel it before it needs SSH.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { stringify } from 'yaml';
import { startHubStandin, type HubStandin } from '../lab/koji-hub/hub-standin';
import { createKojiTestPki } from '../lab/pki/koji-pki';

export interface KojiPeer {
  dir: string;
  hub: HubStandin;
  configPath: string;
  hosts: string[];
  stop(): Promise<void>;
}

export interface KojiPeerOptions {
  hosts: number;
  /** Sections merged into the config (irc, roles, ...). */
  extra?: Record<string, unknown>;
}

export async function startKojiPeer(options: KojiPeerOptions): Promise<KojiPeer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rekick-bench-koji-'));
  mkdirSync(path.join(dir, 'var'));
  const pki = await createKojiTestPki({ dir: path.join(dir, 'pki'), users: ['rekick'] });
  const hosts = Array.from({ length: options.hosts }, (_, i) => `buildarm-${String(i + 1).padStart(3, '0')}`);
  const hub = await startHubStandin({
    tls: { key: pki.hub.keyPem, cert: pki.hub.certPem, ca: pki.ca.certPem },
    users: [{ name: 'rekick', perms: ['host', 'admin'] }],
    hosts: hosts.map((name) => ({ name, arches: 'aarch64' })),
  });
  const key = ssh2.utils.generateKeyPairSync('ed25519');
  writeFileSync(path.join(dir, 'id_ed25519'), key.private, { mode: 0o600 });
  writeFileSync(path.join(dir, 'var/known_hosts'), '');
  const config = {
    store: './var/rekick.json',
    koji: { server: hub.url, cert: pki.clients.rekick!.pemPath, serverca: pki.ca.certPath, pollInterval: '200ms' },
    ssh: { user: 'root', key: './id_ed25519', knownHosts: './var/known_hosts', connectTimeout: '2s' },
    installer: { kernel: 'http://dl.bench/vmlinuz', initrd: 'http://dl.bench/initrd.img', kickstart: 'http://ks.bench/{host}.ks' },
    timeouts: { drain: '1m', sshReturn: '1m', step: '1m' },
    retry: { attempts: 3, backoff: '30s', maxBackoff: '30s' },
    // Port 9 on loopback: nothing listens, so a job that got that far waits in a retry until cancelled.
    hosts: hosts.map((name) => ({ name, arch: 'aarch64', kind: 'baremetal', address: '127.0.0.1', port: 9 })),
    ...options.extra,
  };
  const configPath = path.join(dir, 'rekick.yaml');
  writeFileSync(configPath, stringify(config));
  return {
    dir,
    hub,
    configPath,
    hosts,
    async stop() {
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
