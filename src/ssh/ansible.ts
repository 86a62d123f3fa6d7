/**
 * `postinstall.playbook`: runs `ansible-playbook` from the rekick machine, limited to the host, with rekick's SSH
 * user, key and known_hosts (host keys checked), streaming its output as lines.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config, HostConfig } from '../config/schema';
import { abortReason, CodedError, StepError } from '../errors';
import { OutputCollector, createRedactor } from './output-lines';

export type PlaybookConfig = NonNullable<Config['postinstall']['playbook']>;

export interface RunPlaybookOptions {
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  sshUser: string;
  keyPath: string;
  knownHostsPath: string;
  /** Where the host is reached when rekick writes the inventory (no `inventory` in the config). */
  address?: string;
  port?: number;
  /** The program to run. Default `ansible-playbook` from PATH. */
  ansiblePlaybook?: string;
  env?: NodeJS.ProcessEnv;
}

export class AnsibleMissingError extends StepError {
  constructor(program: string) {
    super(
      'E_ANSIBLE_MISSING',
      `${program} is not installed on the rekick machine: install Ansible there (e.g. \`apt install ansible\` or \`dnf install ansible-core\`), or remove postinstall.playbook from the config`,
      { retryable: false },
    );
  }
}

/** The ansible-playbook arguments for one host (exported for tests). */
export function playbookArgs(host: HostConfig, playbook: PlaybookConfig, inventory: string, options: RunPlaybookOptions): string[] {
  const sshArgs = `-o UserKnownHostsFile=${options.knownHostsPath} -o StrictHostKeyChecking=yes -o BatchMode=yes`;
  return [
    '-i',
    inventory,
    '--limit',
    host.name,
    '--user',
    options.sshUser,
    '--private-key',
    options.keyPath,
    '--ssh-common-args',
    sshArgs,
    ...playbook.extraArgs,
    playbook.path,
  ];
}

export async function runPlaybook(host: HostConfig, playbook: PlaybookConfig, options: RunPlaybookOptions): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const program = options.ansiblePlaybook ?? 'ansible-playbook';
  const tmp = await mkdtemp(path.join(tmpdir(), 'rekick-ansible-'));
  try {
    let inventory = playbook.inventory;
    if (!inventory) {
      inventory = path.join(tmp, 'inventory.ini');
      const address = options.address ?? host.address ?? host.name;
      const port = options.port ?? host.port;
      await writeFile(inventory, `${host.name} ansible_host=${address} ansible_port=${port}\n`, { mode: 0o600 });
    }
    const args = playbookArgs(host, playbook, inventory, options);
    const collector = new OutputCollector(createRedactor([]), options.onLine ? (l) => options.onLine!(l) : undefined);
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(program, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          ...options.env,
          ANSIBLE_HOST_KEY_CHECKING: 'True',
          ANSIBLE_NOCOLOR: '1',
          ANSIBLE_FORCE_COLOR: '0',
          ANSIBLE_RETRY_FILES_ENABLED: '0',
          ANSIBLE_LOCAL_TEMP: path.join(tmp, 'ansible-local'),
          PYTHONUNBUFFERED: '1',
        },
      });
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout!.on('data', (d: Buffer) => collector.push('stdout', d));
      child.stderr!.on('data', (d: Buffer) => collector.push('stderr', d));
      child.once('error', (err: NodeJS.ErrnoException) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err.code === 'ENOENT' ? new AnsibleMissingError(program) : new CodedError('E_ANSIBLE', `cannot run ${program}: ${err.message}`, { cause: err }));
      });
      child.once('close', (c) => {
        clearTimeout(killTimer);
        signal?.removeEventListener('abort', onAbort);
        resolve(c);
      });
    });
    collector.end();
    if (signal?.aborted) throw abortReason(signal);
    if (code !== 0) {
      const tail = collector.tail;
      const recap = tail.find((l) => new RegExp(`^${host.name.replace(/[.]/g, '\\.')}\\s+:`).test(l));
      throw new StepError('E_PLAYBOOK_FAILED', `ansible-playbook ${path.basename(playbook.path)} failed on ${host.name} (exit ${code})${recap ? `: ${recap.trim()}` : ''}`, {
        outputTail: tail,
      });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
