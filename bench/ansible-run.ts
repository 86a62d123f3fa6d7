/**
 * Runs Debian's `ansible-playbook` for a benchmark: an inventory of real sshd builders, rekick's key and
 * known_hosts (host keys checked), pipelining on, default forks, in a directory of its own.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface AnsibleTarget {
  name: string;
  address: string;
}

export interface AnsibleRunOptions {
  dir: string;
  hosts: AnsibleTarget[];
  playbook: string;
  keyPath: string;
  knownHostsPath: string;
}

export interface AnsibleRunResult {
  wallMs: number;
  code: number | null;
  output: string;
}

/** Writes ansible.cfg and the inventory into `dir` (ansible reads ansible.cfg from its working directory). */
export function writeAnsibleSetup(options: Omit<AnsibleRunOptions, 'playbook'>): void {
  writeFileSync(
    path.join(options.dir, 'ansible.cfg'),
    [
      '[defaults]',
      'host_key_checking = True',
      'retry_files_enabled = False',
      'interpreter_python = /usr/bin/python3',
      'nocolor = True',
      '[ssh_connection]',
      'pipelining = True',
      `ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${options.knownHostsPath} -o StrictHostKeyChecking=yes -o BatchMode=yes`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(options.dir, 'inventory.ini'),
    options.hosts.map((h) => `${h.name} ansible_host=${h.address} ansible_user=root ansible_ssh_private_key_file=${options.keyPath}`).join('\n') + '\n',
  );
}

export function runAnsiblePlaybook(options: AnsibleRunOptions): Promise<AnsibleRunResult> {
  writeAnsibleSetup(options);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('ansible-playbook', ['-i', 'inventory.ini', options.playbook], {
      cwd: options.dir,
      env: { ...process.env, ANSIBLE_CONFIG: path.join(options.dir, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('error', (err) => reject(new Error(`cannot run ansible-playbook (is Debian's ansible installed?): ${err.message}`)));
    child.once('close', (code) => resolve({ wallMs: performance.now() - started, code, output }));
  });
}
