/**
 * Step 6 (`postinstall.files` then `postinstall.commands`) and step 7's checks (`postinstall.verify`) over one
 * RemoteHost. Idempotent: files are rewritten whole and atomically, so a resumed run leaves what one clean run
 * leaves. The content of a secret file (marked `secret`, or with no group/other permission bits) is never shown,
 * and is redacted from the output of the commands that follow.
 */
import { readFile } from 'node:fs/promises';
import type { Config, HostConfig, PostinstallFile } from '../config/schema';
import { abortReason, StepError } from '../errors';
import { RemoteCommandError } from './errors';
import { hostValues, substitute, substituteQuoted, type HostValues } from './placeholders';
import type { RemoteHost } from './types';

export interface PostinstallOptions {
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  /** Reads a local file (tests may pass their own). Default: fs.readFile. */
  readLocal?: (path: string) => Promise<Buffer>;
}

export interface RenderedFile {
  dest: string;
  content: Buffer;
  mode: number;
  owner?: string;
  secret: boolean;
}

/** Whether a file's content is secret: explicitly, or by a mode that gives group and others nothing. */
export function isSecretFile(file: Pick<PostinstallFile, 'mode' | 'secret'>): boolean {
  return file.secret ?? (file.mode & 0o077) === 0;
}

/** A config file entry made concrete for one host: path and content with placeholders replaced. */
export async function renderFile(file: PostinstallFile, values: HostValues, readLocal: (p: string) => Promise<Buffer>): Promise<RenderedFile> {
  let content: Buffer;
  try {
    if (file.template !== undefined) content = Buffer.from(substitute((await readLocal(file.template)).toString('utf8'), values));
    else if (file.source !== undefined) content = await readLocal(substitute(file.source, values));
    else content = Buffer.from(file.content ?? '');
  } catch (err) {
    const local = file.template ?? (file.source && substitute(file.source, values));
    throw new StepError('E_POSTINSTALL_FILE', `cannot read ${local} for ${substitute(file.dest, values)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { dest: substitute(file.dest, values), content, mode: file.mode, owner: file.owner, secret: isSecretFile(file) };
}

export async function runPostinstall(remote: RemoteHost, host: HostConfig, config: Config, options: PostinstallOptions = {}): Promise<void> {
  const values = hostValues(host);
  const readLocal = options.readLocal ?? ((p: string) => readFile(p));
  const secrets: string[] = [];
  const files: RenderedFile[] = [];
  // Read everything first: a missing local file fails the step before the host is touched.
  for (const f of config.postinstall.files) files.push(await renderFile(f, values, readLocal));
  for (const f of files) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    if (f.secret) secrets.push(f.content.toString('utf8'));
    options.onLine?.(`writing ${f.dest} (mode ${f.mode.toString(8).padStart(4, '0')}${f.secret ? ', secret' : ''})`);
    await remote.writeFile(f.dest, f.content, { mode: f.mode, owner: f.owner, secret: f.secret });
  }
  for (const template of config.postinstall.commands) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const command = substituteQuoted(template, values);
    options.onLine?.(`$ ${command}`);
    await remote.exec(command, { signal: options.signal, secrets, onLine: options.onLine ? (l) => options.onLine!(l) : undefined });
  }
}

/** Step 7's checks: every `postinstall.verify` command must exit 0; the error names the first that did not. */
export async function runVerify(remote: RemoteHost, host: HostConfig, config: Config, options: PostinstallOptions = {}): Promise<void> {
  const values = hostValues(host);
  for (const template of config.postinstall.verify) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const command = substituteQuoted(template, values);
    options.onLine?.(`$ ${command}`);
    const r = await remote.exec(command, {
      signal: options.signal,
      allowFailure: true,
      onLine: options.onLine ? (l) => options.onLine!(l) : undefined,
    });
    if (r.code !== 0) {
      const failed = new RemoteCommandError(host.name, command, r);
      throw new StepError('E_VERIFY_FAILED', `verify failed on ${host.name}: ${failed.message}`, { outputTail: r.tail, cause: failed });
    }
  }
}
