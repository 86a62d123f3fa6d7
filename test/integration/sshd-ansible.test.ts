/** The Ansible post-install path: Debian's ansible-playbook against a real sshd, limited to the host. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnsibleMissingError, runPlaybook } from '../../src/ssh/ansible';
import { startSshdFleet, type SshdFleet } from './helpers/sshd';

let fleet: SshdFleet;
const H = 'buildarm-31';
const OTHER = 'buildarm-32';

beforeAll(async () => {
  fleet = await startSshdFleet([
    { name: H, kind: 'baremetal' },
    { name: OTHER, kind: 'baremetal' },
  ]);
  fleet.writeKnownHosts();
  writeFileSync(
    path.join(fleet.dir, 'site.yml'),
    [
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      '    - name: config directory',
      '      file:',
      `        path: "${fleet.dir}/root/{{ inventory_hostname }}"`,
      '        state: directory',
      '    - name: kojid config',
      '      copy:',
      `        dest: "${fleet.dir}/root/{{ inventory_hostname }}/kojid.conf"`,
      '        content: "[kojid]\\nhost = {{ inventory_hostname }}\\n"',
      '        mode: "0640"',
      '    - name: hostname',
      '      command: hostnamectl set-hostname {{ inventory_hostname }}',
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(fleet.dir, 'fail.yml'), '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: /bin/false\n');
  // a site inventory with both hosts: rekick must limit the run to one
  writeFileSync(
    path.join(fleet.dir, 'hosts.ini'),
    `${H} ansible_host=${fleet.host(H).address}\n${OTHER} ansible_host=${fleet.host(OTHER).address}\n`,
  );
});
afterAll(async () => fleet?.stop());

const hostConfig = (name: string) => ({
  name,
  arch: 'aarch64',
  kind: 'baremetal' as const,
  address: fleet.host(name).address,
  port: 22,
  groups: [],
  channels: [],
});
const opts = () => ({
  sshUser: 'root',
  keyPath: fleet.clientKeyPath,
  knownHostsPath: fleet.knownHostsPath,
});
const extraArgs = ['-e', 'ansible_python_interpreter=/usr/bin/python3'];

describe('runPlaybook', () => {
  it('runs the playbook over SSH on this host only, streaming its output', async () => {
    const lines: string[] = [];
    await runPlaybook(hostConfig(H), { path: path.join(fleet.dir, 'site.yml'), inventory: path.join(fleet.dir, 'hosts.ini'), extraArgs }, {
      ...opts(),
      onLine: (l) => lines.push(l),
    });
    const file = `${fleet.dir}/root/${H}/kojid.conf`;
    expect(readFileSync(file, 'utf8')).toBe(`[kojid]\nhost = ${H}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(fleet.calls(H).map((c) => c.slice(1).join(' '))).toEqual([`hostnamectl set-hostname ${H}`]);
    expect(fleet.calls(OTHER)).toEqual([]); // --limit
    expect(lines.some((l) => l.startsWith('PLAY RECAP'))).toBe(true);
    expect(lines.some((l) => new RegExp(`^${H}\\s+: ok=3`).test(l))).toBe(true);
    expect(lines.join('\n')).not.toContain('PRIVATE KEY');
  }, 60_000);

  it('writes its own one-host inventory when the config names none', async () => {
    fleet.clearCalls();
    await runPlaybook(hostConfig(OTHER), { path: path.join(fleet.dir, 'site.yml'), extraArgs }, { ...opts(), address: fleet.host(OTHER).address, port: 22 });
    expect(fleet.calls(OTHER).map((c) => c[1])).toEqual(['hostnamectl']);
  }, 60_000);

  it('a failing play fails with its recap and output tail', async () => {
    const err = await runPlaybook(hostConfig(H), { path: path.join(fleet.dir, 'fail.yml'), extraArgs }, opts()).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('E_PLAYBOOK_FAILED');
    expect((err as Error).message).toMatch(new RegExp(`${H}\\s+: ok=0 .*failed=1`));
    expect((err as { outputTail: string[] }).outputTail.join('\n')).toContain('/bin/false');
  }, 60_000);

  it('checks host keys against known_hosts: a changed key fails the play', async () => {
    const other = fleet.host(OTHER);
    await other.stop();
    other.newHostKey();
    await other.start();
    const err = await runPlaybook(hostConfig(OTHER), { path: path.join(fleet.dir, 'site.yml'), extraArgs }, opts()).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('E_PLAYBOOK_FAILED');
    expect((err as { outputTail: string[] }).outputTail.join('\n')).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  }, 60_000);

  it('says clearly when ansible-playbook is not installed', async () => {
    const err = await runPlaybook(hostConfig(H), { path: path.join(fleet.dir, 'site.yml'), extraArgs: [] }, {
      ...opts(),
      ansiblePlaybook: '/nonexistent/bin/ansible-playbook',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AnsibleMissingError);
    expect((err as Error).message).toContain('is not installed on the rekick machine');
  });
});
