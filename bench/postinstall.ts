/**
 * Post-install at scale: the same configuration (10 files: 5 templates and 5 copied files; 20 commands) pushed
 * to 50 real sshd builders on loopback, by rekick (runPostinstall over createSshConnector, all hosts at once) and
 * by Debian's ansible-playbook (default forks, pipelining on), one after the other in one run. Both results are
 * checked on every host before the times count.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { postinstallSchema, type Config, type HostConfig } from '../src/config/schema';
import { runPostinstall } from '../src/ssh/postinstall-runner';
import { createSshConnector } from '../src/ssh/ssh-connector';
import { startSshdFleet, type SshdFleet } from '../test/integration/helpers/sshd';
import { runAnsiblePlaybook } from './ansible-run';
import { withDefaults } from './options';
import { note, report } from './report';

export interface PostinstallBenchOptions {
  hosts: number;
}

const FILES = 10;
const COMMANDS = 20;

export async function benchPostinstall(options: Partial<PostinstallBenchOptions> = {}): Promise<void> {
  const o = withDefaults({ hosts: 50 }, options);
  const t0 = Date.now();
  const names = Array.from({ length: o.hosts }, (_, i) => `buildarm-${String(i + 1).padStart(2, '0')}`);
  const fleet = await startSshdFleet(names.map((name) => ({ name, kind: 'baremetal' as const })));
  let rekickS: number;
  let ansibleS: number;
  try {
    fleet.writeKnownHosts();
    note(`postinstall: ${o.hosts} real sshd builders up in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${FILES} files and ${COMMANDS} commands each`);
    const local = path.join(fleet.dir, 'local');
    mkdirSync(local);
    for (let i = 1; i <= FILES / 2; i++) {
      writeFileSync(path.join(local, `tpl-${i}.conf`), `[section${i}]\nhost = {host}\narch = {arch}\naddress = {address}\nvalue = ${'x'.repeat(200)}\n`);
      writeFileSync(path.join(local, `static-${i}.bin`), Buffer.alloc(4096, i));
    }
    const hosts: HostConfig[] = names.map((name) => ({
      name,
      arch: 'aarch64',
      kind: 'baremetal',
      address: fleet.host(name).address,
      port: 22,
      groups: [],
      channels: [],
    }));

    // rekick
    const rekickRoot = path.join(fleet.dir, 'by-rekick');
    prepareRoots(rekickRoot, names);
    const config = { postinstall: postinstallSchema.parse(rekickConfig(rekickRoot, local)) } as Config;
    const connector = createSshConnector({
      user: 'root',
      privateKey: fleet.clientKeyPath,
      knownHostsPath: fleet.knownHostsPath,
      connectTimeoutMs: 15_000,
      commandTimeoutMs: 60_000,
      log: pino({ level: 'silent' }),
    });
    let t = performance.now();
    await Promise.all(
      hosts.map(async (h) => {
        const remote = await connector.connect({ name: h.name, address: h.address!, port: h.port }, { hostKeyMode: 'strict' });
        try {
          await runPostinstall(remote, h, config);
        } finally {
          await remote.close();
        }
      }),
    );
    rekickS = (performance.now() - t) / 1000;
    checkResults(rekickRoot, names, 'rekick');

    // Ansible
    const ansibleRoot = path.join(fleet.dir, 'by-ansible');
    prepareRoots(ansibleRoot, names);
    writeFileSync(path.join(fleet.dir, 'postinstall.yml'), ansiblePlaybook(ansibleRoot, local));
    for (let i = 1; i <= FILES / 2; i++) {
      // The same templates in Jinja's words.
      const text = readFileSync(path.join(local, `tpl-${i}.conf`), 'utf8').replace(/\{(host|arch|address)\}/g, (_m, k: string) => `{{ ${k === 'host' ? 'inventory_hostname' : k === 'arch' ? "'aarch64'" : 'ansible_host'} }}`);
      writeFileSync(path.join(local, `tpl-${i}.conf.j2`), text);
    }
    t = performance.now();
    const r = await runAnsiblePlaybook({
      dir: fleet.dir,
      hosts: hosts.map((h) => ({ name: h.name, address: h.address! })),
      playbook: 'postinstall.yml',
      keyPath: fleet.clientKeyPath,
      knownHostsPath: fleet.knownHostsPath,
    });
    ansibleS = (performance.now() - t) / 1000;
    if (r.code !== 0) throw new Error(`ansible-playbook failed (${r.code}):\n${r.output.slice(-3000)}`);
    checkResults(ansibleRoot, names, 'ansible');
    const same = names.every((n) =>
      Array.from({ length: FILES }, (_, i) => fileName(i)).every((f) => readFileSync(path.join(rekickRoot, n, f)).equals(readFileSync(path.join(ansibleRoot, n, f)))),
    );
    note(`postinstall: both left every host with the same ${FILES} files and the commands' marks (files identical: ${same ? 'yes' : 'NO'})`);
  } finally {
    await fleet.stop();
  }
  note(`postinstall: ansible-playbook with its default forks (5) and pipelining on; rekick with every host at once`);
  report('postinstall-rekick', rekickS, 's', `faster than Ansible`);
  report('postinstall-ansible', ansibleS, 's', 'for comparison');
  report('postinstall-speedup', ansibleS / rekickS, '×', '>= 3 ×');
}

function fileName(i: number): string {
  return i < FILES / 2 ? `kojid-${i + 1}.conf` : `cert-${i - FILES / 2 + 1}.bin`;
}

/** The hosts share this machine's file system: each host's files go under ROOT/HOST (made beforehand). */
function prepareRoots(root: string, names: string[]): void {
  for (const n of names) mkdirSync(path.join(root, n), { recursive: true });
}

/** The 20 commands, with `{host}` and `@ROOT@` to fill in: what a kojid post-install does, give or take. */
function commands(root: string, host: string): string[] {
  const dir = `${root}/${host}`;
  const list = [
    `hostnamectl set-hostname ${host}`,
    'systemctl enable kojid',
    `mkdir -p ${dir}/var/lib/kojid ${dir}/var/cache/mock`,
    `chmod 0755 ${dir}/var/lib/kojid`,
    `test -s ${dir}/kojid-1.conf`,
    `grep -q 'host = ${host}' ${dir}/kojid-1.conf`,
    `echo 'nameserver 127.0.0.53' > ${dir}/resolv.conf`,
    `ln -sf ${dir}/kojid-1.conf ${dir}/kojid.conf`,
    `touch ${dir}/.autorelabel`,
    `date +%s > ${dir}/installed-at`,
  ];
  for (let i = list.length; i < COMMANDS - 1; i++) list.push(`echo step-${i + 1} >> ${dir}/steps.log`);
  list.push(`echo done > ${dir}/postinstall-done`);
  return list;
}

function rekickConfig(root: string, local: string) {
  const files = Array.from({ length: FILES }, (_, i) =>
    i < FILES / 2
      ? { dest: `${root}/{host}/${fileName(i)}`, template: path.join(local, `tpl-${i + 1}.conf`), mode: '0644' }
      : { dest: `${root}/{host}/${fileName(i)}`, source: path.join(local, `static-${i - FILES / 2 + 1}.bin`), mode: '0600' },
  );
  return { files, commands: commands(root, '{host}') };
}

function ansiblePlaybook(root: string, local: string): string {
  const lines = ['- hosts: all', '  gather_facts: false', '  tasks:'];
  for (let i = 0; i < FILES; i++) {
    const dest = `${root}/{{ inventory_hostname }}/${fileName(i)}`;
    if (i < FILES / 2) lines.push(`    - template: { src: "${local}/tpl-${i + 1}.conf.j2", dest: "${dest}", mode: "0644" }`);
    else lines.push(`    - copy: { src: "${local}/static-${i - FILES / 2 + 1}.bin", dest: "${dest}", mode: "0600" }`);
  }
  for (const c of commands(root, '{{ inventory_hostname }}')) lines.push(`    - shell: ${JSON.stringify(c)}`);
  return `${lines.join('\n')}\n`;
}

function checkResults(root: string, names: string[], who: string): void {
  for (const n of names) {
    for (let i = 0; i < FILES; i++) {
      if (!existsSync(path.join(root, n, fileName(i)))) throw new Error(`${who}: ${n} lacks ${fileName(i)}`);
    }
    if (!existsSync(path.join(root, n, 'postinstall-done'))) throw new Error(`${who}: ${n}'s last command did not run`);
    const steps = readFileSync(path.join(root, n, 'steps.log'), 'utf8').trim().split('\n');
    if (steps.length !== COMMANDS - 11) throw new Error(`${who}: ${n} ran ${steps.length} of the ${COMMANDS - 11} echo commands`);
  }
}

export type { SshdFleet };
