/** The ssh2 connector against a real OpenSSH sshd: exec, output tails, exit codes, timeouts, atomic files. */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteCommandError } from '../../src/ssh/errors';
import { createSshConnector } from '../../src/ssh/ssh-connector';
import type { RemoteConnector, RemoteHost } from '../../src/ssh/types';
import { startSshdFleet, type SshdFleet } from './helpers/sshd';

let fleet: SshdFleet;
let connector: RemoteConnector;
let remote: RemoteHost;
const logLines: string[] = [];

beforeAll(async () => {
  fleet = await startSshdFleet([{ name: 'buildarm-01', kind: 'baremetal' }]);
  fleet.writeKnownHosts();
  const log = pino({ level: 'debug' }, { write: (s: string) => logLines.push(s) });
  connector = createSshConnector({
    user: 'root',
    privateKey: fleet.clientKeyPath,
    knownHostsPath: fleet.knownHostsPath,
    connectTimeoutMs: 5000,
    commandTimeoutMs: 20_000,
    log,
  });
  remote = await connector.connect(fleet.host('buildarm-01').target, { hostKeyMode: 'strict' });
});

afterAll(async () => {
  await remote?.close();
  await fleet?.stop();
});

describe('exec over one reused connection', () => {
  it('streams stdout and stderr lines and keeps the last 20 as the tail', async () => {
    const seen: Array<[string, string]> = [];
    // stdout and stderr travel as two streams: the pause keeps the order of lines across them from depending on timing
    const r = await remote.exec('for i in $(seq 1 30); do echo "out $i"; done; sleep 0.3; echo "err line" >&2', {
      onLine: (line, stream) => seen.push([line, stream]),
    });
    expect(r.code).toBe(0);
    expect(seen.filter(([, s]) => s === 'stdout')).toHaveLength(30);
    expect(seen).toContainEqual(['err line', 'stderr']);
    expect(r.tail).toHaveLength(20);
    expect(r.tail[r.tail.length - 1]).toBe('err line');
    expect(r.tail[0]).toBe('out 12');
    expect(r.stdout.split('\n')[0]).toBe('out 1');
    // rekick's pid marker never shows up
    expect(r.stderr).toBe('err line\n');
  });

  it('runs the commands on the simulated host, with the doubles first on PATH', async () => {
    const r = await remote.exec('command -v systemctl; echo "$REKICK_SIM_HOST"');
    expect(r.stdout.split('\n')[0]).toMatch(/test\/fixtures\/host-bin\/systemctl$/);
    expect(r.stdout.split('\n')[1]).toBe('buildarm-01');
  });

  it('passes stdin', async () => {
    const r = await remote.exec('tr a-z A-Z', { stdin: 'hello\n' });
    expect(r.stdout).toBe('HELLO\n');
  });

  it('fails a non-zero exit with a typed error carrying the exit code and output tail', async () => {
    const err = await remote.exec('echo preparing; sleep 0.3; echo "no space left" >&2; exit 3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteCommandError);
    const e = err as RemoteCommandError;
    expect(e.code).toBe('E_REMOTE_COMMAND');
    expect(e.exitCode).toBe(3);
    expect(e.outputTail).toEqual(['preparing', 'no space left']);
    expect(e.message).toContain('exited with code 3: no space left');
  });

  it('resolves a failure when allowFailure is set', async () => {
    const r = await remote.exec('exit 7', { allowFailure: true });
    expect(r.code).toBe(7);
  });

  it('kills a hung command at its timeout, process group included', async () => {
    const marker = `rekick-hang-${process.pid}-${Date.now()}`;
    const started = Date.now();
    const err = await remote
      .exec(`echo started; sh -c 'sleep 300; echo ${marker}' ; echo never`, { timeoutMs: 700 })
      .catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('E_REMOTE_TIMEOUT');
    expect((err as { outputTail: string[] }).outputTail).toEqual(['started']);
    expect(Date.now() - started).toBeLessThan(10_000);
    // nothing of it is left running on the host
    const ps = await remote.exec(`ps -eo args | grep -F 'sleep 300; echo ${marker}' | grep -v grep || true`);
    expect(ps.stdout).toBe('');
    // and the connection still works
    expect((await remote.exec('echo alive')).stdout).toBe('alive\n');
  });

  it('aborts a command through its signal', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const err = await remote.exec('sleep 60', { signal: ac.signal }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('E_CANCELLED');
  });

  it('redacts secrets from lines, tails and results', async () => {
    const seen: string[] = [];
    const r = await remote.exec('echo "token=s3cr3t-T0KEN-value"; echo "s3cr3t-T0KEN-value" >&2', {
      secrets: ['s3cr3t-T0KEN-value'],
      onLine: (l) => seen.push(l),
    });
    expect(JSON.stringify([seen, r])).not.toContain('s3cr3t-T0KEN-value');
    expect(r.stdout).toBe('token=[redacted]\n');
  });
});

describe('writeFile', () => {
  it('writes atomically with mode, creating parents, and replaces an existing file in one rename', async () => {
    const dest = `${fleet.dir}/root/etc/kojid/deep/kojid.conf`;
    await remote.writeFile(dest, 'first\n', { mode: 0o640 });
    expect(readFileSync(dest, 'utf8')).toBe('first\n');
    expect(statSync(dest).mode & 0o7777).toBe(0o640);
    const inodeBefore = statSync(dest).ino;
    await remote.writeFile(dest, 'second\n', { mode: 0o600, owner: 'root:root' });
    expect(readFileSync(dest, 'utf8')).toBe('second\n');
    expect(statSync(dest).mode & 0o7777).toBe(0o600);
    expect(statSync(dest).ino).not.toBe(inodeBefore); // renamed into place, not rewritten in place
    // no temp files left beside it
    const ls = execFileSync('ls', ['-A', `${fleet.dir}/root/etc/kojid/deep`], { encoding: 'utf8' });
    expect(ls.trim()).toBe('kojid.conf');
    // parent directories keep a normal mode (umask applies to the temp file only)
    expect(statSync(`${fleet.dir}/root/etc/kojid`).mode & 0o777).toBe(0o755);
    expect((await remote.readFile(dest)).toString()).toBe('second\n');
  });

  it('leaves the old file and no temp file when the write fails', async () => {
    const dest = `${fleet.dir}/root/etc/keep.conf`;
    await remote.writeFile(dest, 'old\n', { mode: 0o644 });
    const err = await remote.writeFile(dest, 'new\n', { mode: 0o644, owner: 'no-such-user-xyz' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteCommandError);
    expect(readFileSync(dest, 'utf8')).toBe('old\n');
    expect(execFileSync('ls', ['-A', `${fleet.dir}/root/etc`], { encoding: 'utf8' }).trim().split('\n')).toEqual(['keep.conf', 'kojid']);
  });

  it('never logs secret content, nor the private key', async () => {
    const pem = readFileSync(fleet.clientKeyPath, 'utf8');
    await remote.writeFile(`${fleet.dir}/root/etc/secret.pem`, 'BEGIN very-secret-koji-key-material END\n', { mode: 0o600, secret: true });
    const all = logLines.join('');
    expect(all).toContain('writing file');
    expect(all).not.toContain('very-secret-koji-key-material');
    for (const line of pem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) expect(all).not.toContain(line);
  });
});

describe('connection loss', () => {
  it('a command whose host goes away fails promptly as a retryable connection error, not a timeout', async () => {
    const host = fleet.host('buildarm-01');
    const r2 = await connector.connect(host.target, { hostKeyMode: 'strict' });
    const started = Date.now();
    const running = r2.exec('echo going; sleep 60', { timeoutMs: 30_000 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 500));
    await host.stop();
    const err = await running;
    expect((err as { code?: string }).code).toBe('E_SSH_CONNECT');
    expect((err as { retryable?: boolean }).retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(r2.exec('true')).rejects.toMatchObject({ code: 'E_SSH_CONNECT' });
    await r2.close();
    await host.start();
  });
});
