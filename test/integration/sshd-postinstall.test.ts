/**
 * post-install against real sshd: templates, sources and modes; commands in order, stopping at the first
 * failure; a run interrupted mid-way then resumed leaves the same files and modes as one clean run; secret
 * content never appears in output or logs.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema';
import { runPostinstall, runVerify } from '../../src/ssh/postinstall-runner';
import { createSshConnector } from '../../src/ssh/ssh-connector';
import type { RemoteConnector, RemoteHost } from '../../src/ssh/types';
import { testConfig } from '../fakes/test-config';
import { startSshdFleet, type SshdFleet } from './helpers/sshd';
import { fileTree } from '../support/file-tree';

const H = 'buildarm-21';
let fleet: SshdFleet;
let connector: RemoteConnector;
let remote: RemoteHost;
const logLines: string[] = [];
const SECRET_LINES = ['MC4CAQAwBQYDK2VwBCIEIKsecretkojikeymaterialAAAAAAAAAAAAAAAAAAAAA', 'c2Vjb25kLXNlY3JldC1saW5lLW9mLXRoZS1rb2ppLWtleQ'];

beforeAll(async () => {
  fleet = await startSshdFleet([{ name: H, kind: 'baremetal' }]);
  fleet.writeKnownHosts();
  const local = path.join(fleet.dir, 'local');
  mkdirSync(path.join(local, 'pki'), { recursive: true });
  writeFileSync(path.join(local, 'kojid.conf'), '[kojid]\nhost = {host}\narch = {arch}\naddress = {address}\n');
  writeFileSync(path.join(local, 'pki', `${H}.pem`), `-----BEGIN PRIVATE KEY-----\n${SECRET_LINES.join('\n')}\n-----END PRIVATE KEY-----\n`);
  connector = createSshConnector({
    user: 'root',
    privateKey: fleet.clientKeyPath,
    knownHostsPath: fleet.knownHostsPath,
    connectTimeoutMs: 5000,
    commandTimeoutMs: 20_000,
    log: pino({ level: 'debug' }, { write: (s: string) => logLines.push(s) }),
  });
  remote = await connector.connect(fleet.host(H).target, { hostKeyMode: 'strict' });
});
afterAll(async () => {
  await remote?.close();
  await fleet?.stop();
});

function configFor(root: string, commandsExtra: string[] = []): Config {
  const local = path.join(fleet.dir, 'local');
  return testConfig(
    {
      postinstall: {
        files: [
          { dest: `${root}/etc/kojid/kojid.conf`, template: path.join(local, 'kojid.conf'), mode: '0644' },
          { dest: `${root}/etc/pki/koji/{host}.pem`, source: path.join(local, 'pki', '{host}.pem'), mode: '0600' },
          { dest: `${root}/etc/motd`, content: 'built by rekick\n', mode: '0444', owner: 'root:root' },
        ],
        commands: [
          'hostnamectl set-hostname {host}',
          `cat ${root}/etc/pki/koji/{host}.pem`,
          ...commandsExtra,
          'systemctl enable kojid',
          `chmod 0750 ${root}/etc/kojid`,
        ],
        verify: ['systemctl is-active kojid', 'test "$(hostnamectl)" = {host}'],
      },
    },
    [{ name: H, arch: 'aarch64', kind: 'baremetal', address: fleet.host(H).address }],
  );
}


describe('runPostinstall', () => {
  it('writes rendered templates, copied sources and modes, then runs the commands in order', async () => {
    const root = `${fleet.dir}/clean`;
    const lines: string[] = [];
    fleet.clearCalls();
    await runPostinstall(remote, configFor(root).hosts[0]!, configFor(root), { onLine: (l) => lines.push(l) });
    const t = fileTree(root);
    expect(t['etc/kojid/kojid.conf']).toEqual({ mode: '644', content: `[kojid]\nhost = ${H}\narch = aarch64\naddress = ${fleet.host(H).address}\n` });
    expect(t[`etc/pki/koji/${H}.pem`]!.mode).toBe('600');
    expect(t[`etc/pki/koji/${H}.pem`]!.content).toContain(SECRET_LINES[0]);
    expect(t['etc/motd']).toEqual({ mode: '444', content: 'built by rekick\n' });
    expect(t['etc/kojid/']!.mode).toBe('750');
    expect(fleet.calls(H).map((c) => c.slice(1).join(' '))).toEqual([`hostnamectl set-hostname ${H}`, 'systemctl enable kojid']);
    // the secret file's content, printed by a command, is redacted from what rekick shows
    expect(lines.join('\n')).toContain('[redacted]');
    for (const s of SECRET_LINES) expect(lines.join('\n') + logLines.join('')).not.toContain(s);
  });

  it('interrupted mid-way (a command killed by the abort), then resumed: same files and modes as one clean run', async () => {
    const root = `${fleet.dir}/resumed`;
    // a stale file from an older attempt, with a wrong mode and content
    mkdirSync(`${root}/etc/kojid`, { recursive: true });
    writeFileSync(`${root}/etc/kojid/kojid.conf`, 'stale\n');
    chmodSync(`${root}/etc/kojid/kojid.conf`, 0o666);
    const ac = new AbortController();
    const cfgSlow = configFor(root, ['echo slow-step-started; sleep 30']);
    const err = await runPostinstall(remote, cfgSlow.hosts[0]!, cfgSlow, {
      signal: ac.signal,
      onLine: (l) => {
        if (l === 'slow-step-started') ac.abort();
      },
    }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('E_CANCELLED');
    expect(fileTree(root)['etc/kojid/']!.mode).not.toBe('750'); // stopped before the last command

    // interrupted again, this time between two file writes
    const ac2 = new AbortController();
    const err2 = await runPostinstall(remote, cfgSlow.hosts[0]!, cfgSlow, {
      signal: ac2.signal,
      onLine: (l) => {
        if (l.startsWith('writing') && l.includes('.pem')) ac2.abort();
      },
    }).catch((e: unknown) => e);
    expect((err2 as { code?: string }).code).toBe('E_CANCELLED');

    const cfg = configFor(root);
    await runPostinstall(remote, cfg.hosts[0]!, cfg);
    expect(fileTree(root)).toEqual(fileTree(`${fleet.dir}/clean`));
    // and running it once more changes nothing
    await runPostinstall(remote, cfg.hosts[0]!, cfg);
    expect(fileTree(root)).toEqual(fileTree(`${fleet.dir}/clean`));
  });

  it('stops at the first failing command, with its output tail', async () => {
    const root = `${fleet.dir}/failing`;
    const base = configFor(root);
    const cfg = { ...base, postinstall: { ...base.postinstall, commands: ['echo one', 'echo "kojid: unknown user" >&2; exit 4', 'echo never'] } };
    const lines: string[] = [];
    const err = await runPostinstall(remote, cfg.hosts[0]!, cfg, { onLine: (l) => lines.push(l) }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('E_REMOTE_COMMAND');
    expect((err as { outputTail: string[] }).outputTail).toEqual(['kojid: unknown user']);
    expect(lines).not.toContain('never');
  });
});

describe('runVerify', () => {
  it('passes when every command exits 0; names the failing command and its output otherwise', async () => {
    const cfg = configFor(`${fleet.dir}/clean`);
    await runVerify(remote, cfg.hosts[0]!, cfg);
    const failing = { ...cfg, postinstall: { ...cfg.postinstall, verify: ['systemctl is-active kojid', 'systemctl is-active httpd'] } };
    const err = await runVerify(remote, failing.hosts[0]!, failing).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('E_VERIFY_FAILED');
    expect((err as Error).message).toContain('systemctl is-active httpd');
    expect((err as Error).message).toContain('exited with code 3');
    expect((err as { outputTail: string[] }).outputTail).toEqual(['inactive']);
  });
});
