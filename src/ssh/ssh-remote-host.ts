/**
 * A host rekick is logged in to over ssh2 (`RemoteHost`): one connection reused for all its commands, files
 * written atomically through the shell (temp file, chmod, chown, rename), and a close that does not hang.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Client } from 'ssh2';
import { StepError } from '../errors';
import { runRemote } from './remote-exec';
import type { ExecChannel } from './running-command';
import { shellQuote } from './shell-quote';
import type { SshConnectorOptions } from './ssh-connector';
import type { ExecOptions, ExecResult, HostTarget, RemoteHost, WriteFileOptions } from './types';

export class SshRemoteHost implements RemoteHost {
  private closed = false;
  private readonly channel: ExecChannel;

  constructor(
    readonly target: HostTarget,
    private readonly client: Client,
    opts: Pick<SshConnectorOptions, 'commandTimeoutMs'>,
    private readonly log: Logger,
    readonly hostKey?: string,
  ) {
    client.on('error', (err) => log.warn({ err: err.message }, 'ssh connection error'));
    client.on('close', () => {
      this.closed = true;
    });
    this.channel = { client, host: target.name, commandTimeoutMs: opts.commandTimeoutMs, log, isClosed: () => this.closed };
  }

  get open(): boolean {
    return !this.closed;
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return runRemote(this.channel, command, options).then((r) => r.result);
  }

  async writeFile(file: string, content: string | Buffer, options: WriteFileOptions): Promise<void> {
    if (!file.startsWith('/')) throw new StepError('E_REMOTE_PATH', `expected an absolute path on ${this.target.name}, got "${file}"`);
    const dir = path.posix.dirname(file);
    const tmp = `${dir}/.${path.posix.basename(file)}.rekick-${randomBytes(4).toString('hex')}`;
    const mode = (options.mode & 0o7777).toString(8).padStart(4, '0');
    const q = shellQuote;
    const steps = [
      `mkdir -p -- ${q(dir)}`,
      `(umask 077 && cat > ${q(tmp)})`,
      `chmod ${mode} -- ${q(tmp)}`,
      ...(options.owner ? [`chown -- ${q(options.owner)} ${q(tmp)}`] : []),
      `mv -f -- ${q(tmp)} ${q(file)}`,
    ];
    const command = `${steps.join(' && ')} || { rc=$?; rm -f -- ${q(tmp)}; exit $rc; }`;
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    this.log.debug({ file, mode, owner: options.owner, bytes: data.length, secret: Boolean(options.secret) }, 'writing file');
    await this.exec(command, { stdin: data, secrets: options.secret ? [data.toString('utf8')] : [] });
  }

  async readFile(file: string): Promise<Buffer> {
    const { raw } = await runRemote(this.channel, `cat -- ${shellQuote(file)}`, { keepRaw: true });
    return raw;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, 2000);
      this.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.end();
    });
  }
}
