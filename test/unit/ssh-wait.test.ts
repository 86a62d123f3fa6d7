/** wait-ssh's polling against a scripted fake connector: backoff cap, progress, timeouts, key errors. */
import { describe, expect, it } from 'vitest';
import { StepTimeoutError } from '../../src/errors';
import { HostKeyChangedError, SshAuthError, SshConnectError } from '../../src/ssh/errors';
import type { ConnectOptions, HostTarget, ProbeResult, RemoteConnector, RemoteHost } from '../../src/ssh/types';
import { waitForSsh } from '../../src/ssh/wait-ssh';
import { waitForSshGone } from '../../src/ssh/wait-ssh-gone';

const target: HostTarget = { name: 'buildarm-01', address: '10.0.0.1', port: 22 };

class ScriptedConnector implements RemoteConnector {
  probes: number[] = [];
  connects: ConnectOptions[] = [];
  constructor(
    private readonly state: (elapsedMs: number) => ProbeResult,
    private readonly onConnect: (opts: ConnectOptions) => void = () => undefined,
    private readonly started = Date.now(),
  ) {}
  depths: Array<string | undefined> = [];
  async probe(_t: HostTarget, options: { depth?: string }): Promise<ProbeResult> {
    this.probes.push(Date.now() - this.started);
    this.depths.push(options.depth);
    return this.state(Date.now() - this.started);
  }
  async connect(_t: HostTarget, options: ConnectOptions): Promise<RemoteHost> {
    this.connects.push(options);
    const state = this.state(Date.now() - this.started);
    if (state === 'down' || state === 'port-open') throw new SshConnectError(target.name, 'no SSH handshake');
    this.onConnect(options);
    return { target, close: async () => undefined } as unknown as RemoteHost;
  }
}

describe('waitForSsh', () => {
  it('never leaves more than ~1 s between probes, so a returned host is noticed within 2 s', async () => {
    const c = new ScriptedConnector((t) => (t < 2500 ? "down" : "handshake"));
    const progress: string[] = [];
    await waitForSsh(c, target, { hostKeyMode: 'strict', timeoutMs: 20_000, onProgress: (m) => progress.push(m) });
    const gaps = c.probes.slice(1).map((t, i) => t - c.probes[i]!);
    expect(Math.max(...gaps)).toBeLessThan(1300);
    expect(c.probes[c.probes.length - 1]! - 2500).toBeLessThan(2000);
    expect(progress).toEqual(['buildarm-01: down (no TCP connection)', 'buildarm-01: SSH handshake done']);
    // TCP probes while down, then one login as the probe: no separate handshake before it
    expect(c.depths.every((d) => d === 'tcp')).toBe(true);
    expect(c.connects).toHaveLength(1);
  });

  it('reports each state once as it changes, and logs in before calling the host up', async () => {
    let refuse = true;
    const c = new ScriptedConnector(
      (t) => (t < 300 ? 'down' : t < 700 ? 'port-open' : 'handshake'),
      () => {
        if (refuse) {
          refuse = false;
          throw new SshAuthError('buildarm-01', 'root');
        }
      },
    );
    const progress: string[] = [];
    await waitForSsh(c, target, { hostKeyMode: 'accept-changed', timeoutMs: 10_000, onProgress: (m) => progress.push(m.replace('buildarm-01: ', '')) });
    expect(progress).toEqual([
      'down (no TCP connection)',
      'port open, no SSH handshake yet',
      'SSH handshake done, but the login failed',
      'SSH handshake done',
    ]);
    expect(c.connects.every((o) => o.hostKeyMode === 'accept-changed')).toBe(true);
  });

  it('times out naming the last state', async () => {
    const c = new ScriptedConnector(() => 'port-open');
    const err = await waitForSsh(c, target, { hostKeyMode: 'strict', timeoutMs: 600 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepTimeoutError);
    expect((err as Error).message).toContain('last state: port open, no SSH handshake yet');
  });

  it('fails at once with the host key error when the key is not acceptable', async () => {
    const c = new ScriptedConnector(
      () => 'key-mismatch',
      () => {
        throw new HostKeyChangedError('buildarm-01', ['SHA256:old'], 'SHA256:new', '/kh');
      },
    );
    const err = await waitForSsh(c, target, { hostKeyMode: 'strict', timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyChangedError);
    expect(c.probes).toHaveLength(1);
  });

  it('stops on abort', async () => {
    const c = new ScriptedConnector(() => 'down');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const err = await waitForSsh(c, target, { hostKeyMode: 'strict', timeoutMs: 10_000, signal: ac.signal }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('E_CANCELLED');
  });
});

describe('waitForSshGone', () => {
  it('resolves with the first state that is not a handshake with the old key', async () => {
    const c = new ScriptedConnector((t) => (t < 300 ? 'handshake' : 'key-mismatch'));
    expect(await waitForSshGone(c, target, { timeoutMs: 5000, intervalMs: 50 })).toBe('key-mismatch');
  });
  it('times out when the host keeps answering', async () => {
    const c = new ScriptedConnector(() => 'handshake');
    await expect(waitForSshGone(c, target, { timeoutMs: 300, intervalMs: 50 })).rejects.toBeInstanceOf(StepTimeoutError);
  });

  /** A host that never looks down to the probes; its boot id changes at `rebootAt` ms (never when undefined). */
  function bootingHost(rebootAt: number | undefined, bootIdOutput = (id: string) => ({ code: 0, stdout: `${id}\n` })) {
    const started = Date.now();
    const commands: string[] = [];
    const c = new ScriptedConnector(() => 'handshake');
    c.connect = async (_t, options) => {
      c.connects.push(options);
      return {
        target,
        close: async () => undefined,
        exec: async (command: string) => {
          commands.push(command);
          const booted = rebootAt !== undefined && Date.now() - started >= rebootAt;
          return { ...bootIdOutput(booted ? NEW_BOOT : OLD_BOOT), stderr: '', tail: [] };
        },
      } as unknown as RemoteHost;
    };
    return { c, commands };
  }
  const OLD_BOOT = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
  const NEW_BOOT = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';

  it('ends when the host answers from a new boot, though no probe saw it down (a fast reboot)', async () => {
    const { c, commands } = bootingHost(200);
    const progress: string[] = [];
    expect(await waitForSshGone(c, target, { timeoutMs: 5000, intervalMs: 50, bootId: OLD_BOOT, onProgress: (m) => progress.push(m) })).toBe('handshake');
    expect(progress).toEqual(['buildarm-01: back already, from a new boot']);
    expect(new Set(commands)).toEqual(new Set(['cat /proc/sys/kernel/random/boot_id']));
    expect(c.connects.every((o) => o.hostKeyMode === 'strict')).toBe(true);
  });

  it('keeps waiting while the host answers from the same boot, and times out saying so', async () => {
    const { c, commands } = bootingHost(undefined);
    await expect(waitForSshGone(c, target, { timeoutMs: 400, intervalMs: 50, bootId: OLD_BOOT })).rejects.toThrow(/to go away \(it still answers with its old key\)/);
    expect(commands.length).toBeGreaterThan(1);
  });

  it('a garbled boot id is not taken for a new boot', async () => {
    const { c } = bootingHost(0, () => ({ code: 1, stdout: '' }));
    await expect(waitForSshGone(c, target, { timeoutMs: 300, intervalMs: 50, bootId: OLD_BOOT })).rejects.toBeInstanceOf(StepTimeoutError);
    const garbled = bootingHost(0, () => ({ code: 0, stdout: 'not a boot id; rm -rf /\n' }));
    await expect(waitForSshGone(garbled.c, target, { timeoutMs: 300, intervalMs: 50, bootId: OLD_BOOT })).rejects.toBeInstanceOf(StepTimeoutError);
  });

  it('looks first an interval after it is called: a host that has just acknowledged the reboot is still up', async () => {
    const { c } = bootingHost(0);
    const started = Date.now();
    let firstLookAt: number | undefined;
    const connect = c.connect.bind(c);
    c.connect = async (t, options) => {
      firstLookAt ??= Date.now() - started;
      return connect(t, options);
    };
    await waitForSshGone(c, target, { timeoutMs: 5000, intervalMs: 150, bootId: OLD_BOOT });
    expect(firstLookAt).toBeGreaterThanOrEqual(140);
    expect(c.connects).toHaveLength(1);
  });

  it('given the boot id, each look is one login and no separate handshake probe', async () => {
    const { c, commands } = bootingHost(250);
    await waitForSshGone(c, target, { timeoutMs: 5000, intervalMs: 50, bootId: OLD_BOOT });
    expect(c.probes).toEqual([]);
    expect(c.connects.length).toBe(commands.length);
    expect(c.connects.length).toBeGreaterThan(1);
  });

  it('given the boot id, a refused connection, another host key or a reset handshake is the host gone; a refused login is not', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:22'), { code: 'ECONNREFUSED' });
    const failing = (err: () => Error) => {
      const c = new ScriptedConnector(() => 'handshake');
      c.connect = async (_t, options) => {
        c.connects.push(options);
        throw err();
      };
      return c;
    };
    expect(await waitForSshGone(failing(() => new SshConnectError(target.name, refused.message, { cause: refused })), target, { timeoutMs: 2000, intervalMs: 50, bootId: OLD_BOOT })).toBe('down');
    const progress: string[] = [];
    const changed = () => new HostKeyChangedError(target.name, ['SHA256:old'], 'SHA256:new', '/var/lib/rekick/known_hosts');
    expect(await waitForSshGone(failing(changed), target, { timeoutMs: 2000, intervalMs: 50, bootId: OLD_BOOT, onProgress: (m) => progress.push(m) })).toBe('key-mismatch');
    expect(progress).toEqual(['buildarm-01: presenting a host key that is not acceptable: SSH has gone away']);
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    progress.length = 0;
    expect(
      await waitForSshGone(failing(() => new SshConnectError(target.name, reset.message, { cause: reset })), target, {
        timeoutMs: 2000,
        intervalMs: 50,
        bootId: OLD_BOOT,
        onProgress: (m) => progress.push(m),
      }),
    ).toBe('port-open');
    expect(progress).toEqual(['buildarm-01: the connection dropped before a login: SSH has gone away']);
    const authRefused = failing(() => new SshAuthError(target.name, 'root'));
    await expect(waitForSshGone(authRefused, target, { timeoutMs: 300, intervalMs: 50, bootId: OLD_BOOT })).rejects.toBeInstanceOf(StepTimeoutError);
    expect(authRefused.connects.length).toBeGreaterThan(1);
  });

  it('given the boot id, a login that hangs counts as gone once the look times out', async () => {
    const c = new ScriptedConnector(() => 'handshake');
    c.connect = (_t, options) =>
      new Promise((_resolve, reject) => {
        c.connects.push(options);
        options.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true });
      });
    expect(await waitForSshGone(c, target, { timeoutMs: 300, intervalMs: 50, bootId: OLD_BOOT })).toBe('port-open');
  });
});
