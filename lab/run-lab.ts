/**
 * `rekick lab`: the same rekick as production, pointed at simulated peers on loopback. It makes a throwaway PKI,
 * starts the Koji hub stand-in (HTTPS, client-certificate sslLogin) and a fleet of simulated SSH builders, writes
 * an ordinary config file for them, loads it with the production loader and runs the bot with the console as its
 * channel. `--peers-only` starts just the peers and prints the config path (crash tests run rekick separately).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig, runBot } from '../src';
import { startHubStandin } from './koji-hub/hub-standin';
import { createTestCa, issueClientCert, issueServerCert } from './pki/test-ca';
import { labHosts, type LabHost } from './lab-hosts';
import { describeLabFault, parseLabFaults, simFault, type LabFault } from './lab-faults';
import { generateEd25519KeyPair } from './fleet/ssh-keys';
import { createSimFleet, type SimFleet } from './fleet/sim-fleet';
import type { HubStandin } from './koji-hub/hub-standin';

export interface LabOptions {
  hosts: number;
  dir?: string;
  fast: boolean;
  peersOnly: boolean;
  httpPort?: number;
  /** `KIND:HOST` specs (lab-faults.ts), put on the simulated hosts at start. */
  faults?: string[];
}

export interface LabPeers {
  dir: string;
  configPath: string;
  hubUrl: string;
  /** The simulated builders (tests inject faults into them) and the hub stand-in (tests read its calls). */
  fleet: SimFleet;
  hub: HubStandin;
  /** The faults put on the simulated hosts at start (--fault). */
  faults: LabFault[];
  stop(): Promise<void>;
}

/** Delays of the simulated fleet: human-watchable by default, short with --fast (tests). */
function delays(fast: boolean) {
  return fast ? { rebootDelayMs: 300, installDelayMs: 600 } : { rebootDelayMs: 2_000, installDelayMs: 4_000 };
}

export async function startLabPeers(options: { hosts: number; dir?: string; fast: boolean; httpPort?: number; faults?: string[] }): Promise<LabPeers> {
  const hosts = labHosts(options.hosts);
  const faults = parseLabFaults(options.faults ?? [], hosts.map((h) => h.name)); // before anything is made
  const dir = options.dir ? path.resolve(options.dir) : mkdtempSync(path.join(tmpdir(), 'rekick-lab-'));
  mkdirSync(path.join(dir, 'pki/builders'), { recursive: true });
  mkdirSync(path.join(dir, 'templates'), { recursive: true });
  mkdirSync(path.join(dir, 'var'), { recursive: true });
  const builders = hosts.filter((h) => h.kind !== 'virthost');

  // PKI: a CA for the hub, rekick's client certificate, one certificate per builder (post-install copies it).
  const ca = await createTestCa(path.join(dir, 'pki/ca'), { name: 'rekick lab CA' });
  const hubCert = await issueServerCert(ca, ['localhost', '127.0.0.1']);
  const rekickCert = await issueClientCert(ca, 'rekick');
  await Promise.all(
    builders.map(async (h) => {
      const c = await issueClientCert(ca, h.name);
      writeFileSync(path.join(dir, `pki/builders/${h.name}.pem`), c.certPem + c.keyPem, { mode: 0o600 });
    }),
  );

  const hub = await startHubStandin({
    ca: ca.certPem,
    cert: hubCert.certPem,
    key: hubCert.keyPem,
    users: [{ name: 'rekick', perms: ['host', 'admin'] }],
    hosts: builders.map((h) => ({ name: h.name, arches: h.arch, channels: ['default', h.kind === 'virt' ? 'createrepo' : 'image'] })),
  });

  // SSH: rekick's key, and the fleet that accepts it.
  const key = generateEd25519KeyPair('rekick-lab');
  const keyPath = path.join(dir, 'pki/id_ed25519');
  writeFileSync(keyPath, key.private, { mode: 0o600 });
  const fleet = await createSimFleet({ hosts: toHostConfigs(hosts), clientPublicKey: key.public, ...delays(options.fast) });
  for (const f of faults) fleet.get(f.host)!.inject(simFault(f));

  // known_hosts as an admin would have it before the first reinstall.
  const knownHosts = path.join(dir, 'var/known_hosts');
  writeFileSync(knownHosts, fleet.knownHostsLines().join('\n') + '\n');

  writeFileSync(
    path.join(dir, 'templates/kojid.conf'),
    '[kojid]\n; written by rekick post-install\nuser = {host}\narch = {arch}\nserver = https://koji.lab/kojihub\ncert = /etc/kojid/{host}.pem\n',
  );

  const config = {
    store: './var/rekick.json',
    koji: { server: hub.url, cert: rekickCert.pemPath, serverca: ca.certPath, pollInterval: '200ms', weburl: 'https://koji.lab/koji' },
    ssh: { user: 'root', key: './pki/id_ed25519', knownHosts: './var/known_hosts', hostKeyPolicy: 'accept-new-after-reinstall', connectTimeout: '5s' },
    http: { host: '127.0.0.1', port: options.httpPort ?? 0 },
    roles: { operator: ['console:operator'], approver: ['console:operator'] },
    installer: {
      kernel: 'http://dl.lab/fedora/43/{arch}/os/images/pxeboot/vmlinuz',
      initrd: 'http://dl.lab/fedora/43/{arch}/os/images/pxeboot/initrd.img',
      kickstart: 'http://ks.lab/{host}.ks',
      args: 'inst.repo=http://dl.lab/fedora/43/{arch}/os/ ip=dhcp',
      tree: 'http://dl.lab/fedora/43/{arch}/os/',
      virtArgs: '--memory 8192 --vcpus 4 --disk size=100 --network bridge=br0 --noautoconsole',
    },
    postinstall: {
      files: [
        { dest: '/etc/kojid/kojid.conf', template: './templates/kojid.conf', mode: '0644' },
        { dest: '/etc/kojid/{host}.pem', source: './pki/builders/{host}.pem', mode: '0600' },
      ],
      commands: ['hostnamectl set-hostname {host}', 'systemctl enable kojid'],
      verify: ['systemctl is-active kojid'],
    },
    virthostPostinstall: { commands: ['hostnamectl set-hostname {host}'], verify: ['test -d /etc'] },
    timeouts: options.fast ? { drain: '30s', sshReturn: '30s', step: '30s' } : { drain: '10m', sshReturn: '5m', step: '5m' },
    retry: { attempts: 3, backoff: '500ms', maxBackoff: '5s' },
    rolling: { fraction: 0.25, failureBudget: 2 },
    hosts: hosts.map((h) => {
      const at = fleet.addressOf(h.name);
      return { ...h, address: at.address, port: at.port };
    }),
  };
  const configPath = path.join(dir, 'rekick.yaml');
  writeFileSync(configPath, `# rekick lab configuration: written by \`rekick lab\` for its simulated peers.\n${stringify(config)}`);

  return {
    dir,
    configPath,
    hubUrl: hub.url,
    fleet,
    hub,
    faults,
    async stop() {
      await fleet.stop();
      await hub.stop();
      // A lab in a directory of its own making leaves nothing behind; `--dir` keeps its state.
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function toHostConfigs(hosts: LabHost[]) {
  return hosts.map((h) => ({ ...h, address: '127.0.0.1', port: 22, channels: [] }));
}

export async function runLab(options: LabOptions): Promise<number> {
  const peers = await startLabPeers(options);
  try {
    if (options.peersOnly) {
      for (const f of peers.faults) process.stdout.write(`${describeLabFault(f)}\n`);
      process.stdout.write(`lab peers up; config: ${peers.configPath}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      return 0;
    }
    const config = loadConfig(peers.configPath, { env: process.env });
    // The terminal is the channel: only warnings and errors interleave with it, unless asked otherwise.
    process.env.REKICK_LOG_LEVEL ??= 'warn';
    const builders = config.hosts.filter((h) => h.kind !== 'virthost').map((h) => h.name);
    return await runBot(config, {
      console: true,
      banner: (http) => [
        `rekick lab ready: ${builders.length} simulated builders (${builders.slice(0, 4).join(', ')}${builders.length > 4 ? ', …' : ''}), Koji hub ${peers.hubUrl}`,
        ...(http ? [`status page: ${http}`] : []),
        ...peers.faults.map(describeLabFault),
        `state and config in ${peers.dir}${options.dir ? '' : ' (removed when the lab stops; --dir DIR keeps them)'}`,
        'you hold every role here; try: !hosts, !reinstall buildarm-03, !status buildarm-03, !approve buildarm-03, !help',
      ],
    });
  } finally {
    await peers.stop();
  }
}
