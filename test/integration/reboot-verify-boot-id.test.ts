/**
 * Step 7 (`reboot-verify`) tells a reboot by the host's boot id, against real OpenSSH sshds (the harness gives each
 * simulated boot a new boot id, test/fixtures/host-bin/cat): a reboot that no probe saw down (rekick too busy, the
 * host too fast) still ends the wait; a step resumed after rekick recorded the reboot but died before issuing it
 * reboots the host instead of verifying the old boot; a host whose boot id never changes (a container, another
 * test harness) is still verified after a reboot the probes saw.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema';
import { createDrivers } from '../../src/drivers';
import type { KojiClient } from '../../src/koji/types';
import { readBootId } from '../../src/ssh/boot-id';
import { sshConnectorFor } from '../../src/ssh/ssh-connector';
import type { ExecOptions, ExecResult, HostTarget, ProbeResult, RemoteConnector, RemoteHost } from '../../src/ssh/types';
import { rebootVerifyStep } from '../../src/steps/reboot-verify';
import type { StepContext } from '../../src/steps/types';
import type { Job } from '../../src/model';
import { makeJob } from '../fakes/jobs';
import { testConfig } from '../fakes/test-config';
import { startSshdFleet, type SshdFleet } from './helpers/sshd';

const HOSTS = ['buildarm-61', 'buildarm-62', 'buildarm-63'];
let fleet: SshdFleet;
let connector: RemoteConnector;
let config: Config;

beforeAll(async () => {
  fleet = await startSshdFleet(HOSTS.map((name) => ({ name, kind: 'baremetal' as const })));
  fleet.writeKnownHosts();
  config = testConfig(
    {
      ssh: { user: 'root', key: fleet.clientKeyPath, knownHosts: fleet.knownHostsPath, hostKeyPolicy: 'accept-new-after-reinstall' },
      postinstall: { files: [], commands: [], verify: ['test -d /'] },
      timeouts: { drain: '10s', sshReturn: '20s', step: '8s' },
    },
    HOSTS.map((name) => ({ name, arch: 'aarch64', kind: 'baremetal' as const, address: fleet.host(name).address })),
  );
  connector = sshConnectorFor(config.ssh, pino({ level: 'silent' }));
});
afterAll(async () => fleet?.stop());

const targetOf = (name: string): HostTarget => ({ name, address: fleet.host(name).address, port: 22 });

/**
 * The real connector, with probes changed and some commands answered by the test. `missDowntime`: a login that
 * finds the host down is tried again until it is back (what a busy rekick sees of a fast reboot: every look lands
 * while sshd is up).
 */
function wrapped(options: {
  probe?: (real: ProbeResult) => ProbeResult;
  answer?: (command: string) => ExecResult | undefined;
  missDowntime?: boolean;
}): RemoteConnector {
  const login = async (t: HostTarget, o: Parameters<RemoteConnector['connect']>[1]): Promise<RemoteHost> => {
    for (;;) {
      try {
        return await connector.connect(t, o);
      } catch (err) {
        if (!options.missDowntime || o.signal?.aborted || String((err as { code?: unknown }).code).startsWith('E_HOST_KEY')) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  return {
    probe: async (t, o) => (options.probe ?? ((r) => r))(await connector.probe(t, o)),
    connect: async (t, o) => {
      const remote = await login(t, o);
      const exec = (command: string, eo?: ExecOptions) => {
        const answer = options.answer?.(command);
        return answer ? Promise.resolve(answer) : remote.exec(command, eo);
      };
      return new Proxy(remote, { get: (r, k) => (k === 'exec' ? exec : Reflect.get(r, k)) }) as RemoteHost;
    },
  };
}

function contextFor(name: string, conn: RemoteConnector, job: Job): StepContext & { progressed: string[]; saves: number } {
  const ctx = {
    config,
    koji: {} as KojiClient,
    connector: conn,
    drivers: createDrivers(),
    log: pino({ level: 'silent' }),
    job,
    host: config.hosts.find((h) => h.name === name)!,
    target: targetOf(name),
    signal: new AbortController().signal,
    timeoutMs: 30_000,
    progressed: [] as string[],
    saves: 0,
    progress: (m: string) => ctx.progressed.push(m),
    output: () => undefined,
    save: async () => void ctx.saves++,
    hostInJob: () => false,
    jobOf: () => undefined,
    hostKeyChanged: () => undefined,
  };
  return ctx;
}

async function bootIdOf(name: string): Promise<string> {
  const remote = await connector.connect(targetOf(name), { hostKeyMode: 'strict' });
  try {
    const id = await readBootId(remote);
    expect(id, 'the harness gives each simulated host a boot id').toMatch(/^[0-9a-f-]{36}$/);
    return id!;
  } finally {
    await remote.close();
  }
}

const reboots = (name: string) => fleet.calls(name).filter((c) => c[1] === 'systemctl' && c[2] === 'reboot').length;

describe('reboot-verify and the boot id', () => {
  it('a reboot that no probe saw down still ends the wait: the host answers from a new boot', async () => {
    const h = HOSTS[0]!;
    const before = await bootIdOf(h);
    fleet.clearCalls();
    // Every look lands while sshd is up (what a busy rekick against a fast reboot sees).
    const conn = wrapped({ probe: (r) => (r === 'down' || r === 'port-open' ? 'handshake' : r), missDowntime: true });
    const ctx = contextFor(h, conn, makeJob({ host: h }));
    await rebootVerifyStep.run(ctx);
    expect(reboots(h)).toBe(1);
    expect(ctx.job.data['reboot-verify.bootIdBefore']).toBe(before);
    expect(ctx.progressed).toContain(`${h}: back already, from a new boot`);
    expect(ctx.progressed).toContain('verifying');
    expect(await bootIdOf(h)).not.toBe(before);
  });

  it('resumed after the reboot was recorded but never issued: reboots the host, then verifies', async () => {
    const h = HOSTS[1]!;
    const before = await bootIdOf(h);
    fleet.clearCalls();
    const job = makeJob({ host: h, data: { 'reboot-verify.rebootIssuedAt': Date.now() - 60_000, 'reboot-verify.bootIdBefore': before } });
    const ctx = contextFor(h, connector, job);
    await rebootVerifyStep.run(ctx);
    expect(reboots(h)).toBe(1);
    expect(ctx.progressed).toContain('resumed: the host has not rebooted yet (same boot id as before): rebooting it now');
    expect(ctx.progressed.indexOf('verifying')).toBeGreaterThan(ctx.progressed.indexOf('rebooting'));
    expect(await bootIdOf(h)).not.toBe(before);
  });

  it('resumed after the host did reboot: no second reboot', async () => {
    const h = HOSTS[1]!;
    fleet.clearCalls();
    const job = makeJob({ host: h, data: { 'reboot-verify.rebootIssuedAt': Date.now() - 60_000, 'reboot-verify.bootIdBefore': '00000000-0000-4000-8000-000000000000' } });
    const ctx = contextFor(h, connector, job);
    await rebootVerifyStep.run(ctx);
    expect(reboots(h)).toBe(0);
    expect(ctx.progressed).toContain('verifying');
  });

  it('a host whose boot id never changes (a container, a test harness) is verified after one reboot it was seen to go through', async () => {
    const h = HOSTS[2]!;
    fleet.clearCalls();
    const fixed = { code: 0, stdout: '11111111-2222-4333-8444-555555555555\n', stderr: '', tail: [] };
    const conn = wrapped({ answer: (command) => (command === 'cat /proc/sys/kernel/random/boot_id' ? fixed : undefined) });
    const ctx = contextFor(h, conn, makeJob({ host: h }));
    await rebootVerifyStep.run(ctx);
    expect(reboots(h)).toBe(1);
    expect(ctx.progressed.some((m) => m.endsWith('SSH has gone away'))).toBe(true);
    expect(ctx.progressed).toContain('verifying');
  });
});
