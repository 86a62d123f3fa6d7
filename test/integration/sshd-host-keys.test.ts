/** Host keys and wait-ssh against real sshd: every host-key case, fingerprints as ssh-keygen prints them. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StepTimeoutError } from '../../src/errors';
import { HostKeyChangedError, HostKeyPinnedError, HostKeyUnknownError } from '../../src/ssh/errors';
import { createSshConnector } from '../../src/ssh/ssh-connector';
import type { RemoteConnector } from '../../src/ssh/types';
import { waitForSsh } from '../../src/ssh/wait-ssh';
import { waitForSshGone } from '../../src/ssh/wait-ssh-gone';
import { sleep, startSshdFleet, type SshdFleet } from './helpers/sshd';

let fleet: SshdFleet;
let connector: RemoteConnector;
const NAME = 'buildvm-x86-07';

beforeAll(async () => {
  fleet = await startSshdFleet([{ name: NAME, kind: 'baremetal' }], { rebootDownMs: 200 });
  connector = createSshConnector({
    user: 'root',
    privateKey: fleet.clientKey(),
    knownHostsPath: fleet.knownHostsPath,
    connectTimeoutMs: 5000,
    commandTimeoutMs: 10_000,
    log: pino({ level: 'silent' }),
  });
});
afterAll(async () => fleet?.stop());

const host = () => fleet.host(NAME);
const knownHosts = () => readFileSync(fleet.knownHostsPath, 'utf8');

async function reinstallKey(): Promise<void> {
  await host().stop();
  host().newHostKey();
  await host().start();
}

describe('host key cases', () => {
  beforeEach(() => fleet.writeKnownHosts());

  it('unchanged key: connects under strict, nothing reported, known_hosts untouched', async () => {
    const before = knownHosts();
    const changes: unknown[] = [];
    const remote = await connector.connect(host().target, { hostKeyMode: 'strict', onKeyChanged: (c) => changes.push(c) });
    expect((await remote.exec('echo ok')).stdout).toBe('ok\n');
    await remote.close();
    expect(changes).toEqual([]);
    expect(knownHosts()).toBe(before);
  });

  it('changed key under strict: refused, naming both fingerprints and what to do; known_hosts untouched', async () => {
    const old = host().fingerprint();
    await reinstallKey();
    const before = knownHosts();
    const err = await connector.connect(host().target, { hostKeyMode: 'strict' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyChangedError);
    const e = err as HostKeyChangedError;
    expect(e.code).toBe('E_HOST_KEY_CHANGED');
    expect(e.expected).toEqual([old]);
    expect(e.presented).toBe(host().fingerprint());
    expect(e.message).toContain(old);
    expect(e.message).toContain(host().fingerprint());
    expect(e.message).toContain(`ssh-keygen -R ${NAME}`);
    expect(e.message).toContain(`!reinstall ${NAME}`);
    expect(knownHosts()).toBe(before);
    expect(await connector.probe(host().target, { hostKeyMode: 'strict', timeoutMs: 3000 })).toBe('key-mismatch');
  });

  it('changed key after a reinstall (accept-changed): accepted, recorded as name,address, fingerprint = ssh-keygen -lf', async () => {
    const old = host().fingerprint();
    await reinstallKey();
    const changes: Array<{ previous?: string; fingerprint: string }> = [];
    const remote = await connector.connect(host().target, { hostKeyMode: 'accept-changed', onKeyChanged: (c) => changes.push(c) });
    await remote.close();
    expect(changes).toEqual([{ previous: old, fingerprint: host().fingerprint() }]);
    const keygen = execFileSync('ssh-keygen', ['-lf', `${host().hostKeyPath}.pub`], { encoding: 'utf8' });
    expect(keygen).toContain(changes[0]!.fingerprint);
    expect(knownHosts()).toBe(`${NAME},${host().address} ${host().publicKey()}\n`);
    // OpenSSH's own tools find it under both name and address
    expect(execFileSync('ssh-keygen', ['-F', NAME, '-f', fleet.knownHostsPath], { encoding: 'utf8' })).toContain(host().publicKey());
    expect(execFileSync('ssh-keygen', ['-F', host().address, '-f', fleet.knownHostsPath], { encoding: 'utf8' })).toContain(host().publicKey());
    // from now on strict accepts it
    const again = await connector.connect(host().target, { hostKeyMode: 'strict' });
    await again.close();
  });

  it('unknown host: refused under strict, accepted and recorded under accept-changed', async () => {
    writeFileSync(fleet.knownHostsPath, '# managed by hand\n');
    const err = await connector.connect(host().target, { hostKeyMode: 'strict' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyUnknownError);
    expect((err as Error).message).toContain(host().fingerprint());
    const changes: unknown[] = [];
    const remote = await connector.connect(host().target, { hostKeyMode: 'accept-changed', onKeyChanged: (c) => changes.push(c) });
    await remote.close();
    expect(changes).toEqual([{ previous: undefined, fingerprint: host().fingerprint() }]);
    expect(knownHosts()).toBe(`# managed by hand\n${NAME},${host().address} ${host().publicKey()}\n`);
  });

  it('hashed known_hosts (ssh-keygen -H): matched; a changed key replaces the hashed line, keeping comments and other hosts', async () => {
    writeFileSync(
      fleet.knownHostsPath,
      `# site hosts\n${NAME},${host().address} ${host().publicKey()}\nother.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`,
    );
    execFileSync('ssh-keygen', ['-H', '-f', fleet.knownHostsPath], { stdio: 'ignore' });
    expect(knownHosts()).toMatch(/^\|1\|/m);
    const ok = await connector.connect(host().target, { hostKeyMode: 'strict' });
    await ok.close();
    const old = host().fingerprint();
    await reinstallKey();
    await expect(connector.connect(host().target, { hostKeyMode: 'strict' })).rejects.toBeInstanceOf(HostKeyChangedError);
    const changes: Array<{ previous?: string }> = [];
    await (await connector.connect(host().target, { hostKeyMode: 'accept-changed', onKeyChanged: (c) => changes.push(c) })).close();
    expect(changes[0]!.previous).toBe(old);
    const lines = knownHosts().trim().split('\n');
    expect(lines[0]).toBe('# site hosts');
    expect(lines.filter((l) => l.startsWith('|1|'))).toHaveLength(1); // other.example.org's hashed line stays
    expect(execFileSync('ssh-keygen', ['-F', 'other.example.org', '-f', fleet.knownHostsPath], { encoding: 'utf8' })).toContain('AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0');
    expect(lines[lines.length - 1]).toBe(`${NAME},${host().address} ${host().publicKey()}`);
  });
});

describe('a pinned key', () => {
  beforeEach(() => fleet.writeKnownHosts());

  it('each connection names the key its host presented (as ssh-keygen -lf prints it); the connector lists known_hosts keys', async () => {
    const remote = await connector.connect(host().target, { hostKeyMode: 'strict' });
    expect(remote.hostKey).toBe(host().fingerprint());
    await remote.close();
    expect(await connector.knownHostKeys!(host().target)).toEqual([host().fingerprint()]);
  });

  it('only the pinned key is taken: another fails with E_HOST_KEY_PINNED even under accept-changed and even when known_hosts lists it; nothing is recorded', async () => {
    const pinned = host().fingerprint();
    await (await connector.connect(host().target, { hostKeyMode: 'strict', pin: pinned })).close();
    await reinstallKey();
    fleet.writeKnownHosts(); // known_hosts now has the new key too: the pin still refuses it
    const before = knownHosts();
    const changes: unknown[] = [];
    const err = await connector
      .connect(host().target, { hostKeyMode: 'accept-changed', pin: pinned, onKeyChanged: (c) => changes.push(c) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyPinnedError);
    expect(err).toMatchObject({ code: 'E_HOST_KEY_PINNED', pinned, presented: host().fingerprint() });
    expect((err as Error).message).toContain(`presented host key ${host().fingerprint()}, not ${pinned}`);
    expect(changes).toEqual([]);
    expect(knownHosts()).toBe(before);
    expect(await connector.probe(host().target, { hostKeyMode: 'strict', pin: pinned, timeoutMs: 3000 })).toBe('key-mismatch');
    // waitForSsh with the pin fails at once, as for any refused key.
    await expect(waitForSsh(connector, host().target, { hostKeyMode: 'accept-changed', pin: pinned, timeoutMs: 5000 })).rejects.toBeInstanceOf(HostKeyPinnedError);
  });
});

describe('probe and wait-ssh', () => {
  beforeEach(() => fleet.writeKnownHosts());

  it('probe: handshake when up, down when stopped', async () => {
    expect(await connector.probe(host().target, { hostKeyMode: 'strict', timeoutMs: 3000 })).toBe('handshake');
    await host().stop();
    try {
      expect(await connector.probe(host().target, { hostKeyMode: 'strict', timeoutMs: 3000 })).toBe('down');
    } finally {
      await host().start();
    }
  });

  it('notices a returned sshd within 2 s and reports down then handshake', async () => {
    await host().stop();
    const progress: string[] = [];
    let returnedAt = 0;
    const waiting = waitForSsh(connector, host().target, { hostKeyMode: 'strict', timeoutMs: 30_000, onProgress: (m) => progress.push(m) }).then(
      () => Date.now(),
    );
    await sleep(3500); // long enough for the backoff to reach its cap
    await host().start();
    returnedAt = Date.now();
    const upAt = await waiting;
    expect(upAt - returnedAt).toBeLessThan(2000);
    expect(progress[0]).toContain('down');
    expect(progress[progress.length - 1]).toContain('handshake');
  });

  it('a port that accepts TCP but never speaks SSH is not up: probe says port-open, wait times out naming it', async () => {
    const server = net.createServer(() => undefined); // accepts, says nothing
    await new Promise<void>((r) => server.listen(0, host().address, r));
    const port = (server.address() as net.AddressInfo).port;
    const target = { name: 'silent', address: host().address, port };
    try {
      expect(await connector.probe(target, { hostKeyMode: 'accept-changed', timeoutMs: 800 })).toBe('port-open');
      const progress: string[] = [];
      const err = await waitForSsh(connector, target, {
        hostKeyMode: 'accept-changed',
        timeoutMs: 1500,
        probeTimeoutMs: 500,
        onProgress: (m) => progress.push(m),
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepTimeoutError);
      expect((err as Error).message).toContain('port open, no SSH handshake');
      expect(progress).toEqual(['silent: port open, no SSH handshake yet']);
    } finally {
      server.close();
    }
  });

  it('wait-ssh under strict fails at once on a changed key, naming both fingerprints', async () => {
    const old = host().fingerprint();
    await reinstallKey();
    const started = Date.now();
    const err = await waitForSsh(connector, host().target, { hostKeyMode: 'strict', timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyChangedError);
    expect((err as Error).message).toContain(old);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('wait-ssh under accept-changed records the new key and reports it', async () => {
    const old = host().fingerprint();
    await reinstallKey();
    const changes: Array<{ previous?: string; fingerprint: string }> = [];
    await waitForSsh(connector, host().target, { hostKeyMode: 'accept-changed', timeoutMs: 10_000, onKeyChanged: (c) => changes.push(c) });
    expect(changes).toEqual([{ previous: old, fingerprint: host().fingerprint() }]);
  });

  it('waitForSshGone resolves once the host stops answering', async () => {
    const gone = waitForSshGone(connector, host().target, { timeoutMs: 10_000 });
    await sleep(400);
    await host().stop();
    // 'down', or 'port-open' when a probe connected while sshd was shutting down: either way no handshake
    expect(['down', 'port-open']).toContain(await gone);
    await host().start();
  });
});
