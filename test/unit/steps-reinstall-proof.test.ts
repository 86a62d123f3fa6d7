/**
 * Proof of a reinstall, with a scripted host: stage-installer records the old system (host key, known_hosts keys,
 * /etc/machine-id) before anything is armed and keeps that record across re-runs; wait-ssh's proof needs a changed
 * host key or machine-id, else the step fails with E_NOT_REINSTALLED naming what came back; a virt guest with no
 * record is taken on its re-created domain, saying so. And which keys each step after the reinstall trusts.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { StepError } from '../../src/errors';
import type { ExecResult, HostTarget, ProbeResult, RemoteConnector, RemoteHost } from '../../src/ssh/types';
import { pinnedKeyOptions, waitSshKeyOptions } from '../../src/steps/host-key-pin';
import { proveNewSystem } from '../../src/steps/reinstall-proof';
import { stageInstallerStep } from '../../src/steps/stage-installer';
import { recordSystemBefore } from '../../src/steps/system-before';
import type { StepContext } from '../../src/steps/types';
import type { Job } from '../../src/model';
import { makeJob } from '../fakes/jobs';
import { testConfig } from '../fakes/test-config';

const OLD_KEY = 'SHA256:oldoldoldoldoldoldoldoldoldoldoldoldoldoldo';
const NEW_KEY = 'SHA256:newnewnewnewnewnewnewnewnewnewnewnewnewnewn';
const RSA_KEY = 'SHA256:rsarsarsarsarsarsarsarsarsarsarsarsarsarsar';
const OLD_ID = '0123456789abcdef0123456789abcdef';
const NEW_ID = 'fedcba9876543210fedcba9876543210';

/** A host as a connector sees it: its key, its machine-id, whether it is up. */
class ScriptedHost {
  hostKey?: string = OLD_KEY;
  machineId?: string = OLD_ID;
  up = true;
  commands: string[] = [];
}

class ScriptedConnector implements RemoteConnector {
  connects = 0;
  constructor(
    readonly host: ScriptedHost,
    readonly known: string[] = [OLD_KEY],
  ) {}
  async connect(target: HostTarget): Promise<RemoteHost> {
    this.connects++;
    if (!this.host.up) throw new StepError('E_SSH_CONNECT', `cannot reach ${target.name} over SSH: connect ECONNREFUSED`, { retryable: true });
    const h = this.host;
    return {
      target,
      hostKey: h.hostKey,
      open: true,
      async exec(command: string): Promise<ExecResult> {
        h.commands.push(command);
        if (command === 'cat /etc/machine-id') {
          return h.machineId ? { code: 0, stdout: `${h.machineId}\n`, stderr: '', tail: [] } : { code: 1, stdout: '', stderr: 'No such file', tail: [] };
        }
        return { code: 0, stdout: '', stderr: '', tail: [] };
      },
      async writeFile() {},
      async readFile() {
        return Buffer.alloc(0);
      },
      async close() {},
    };
  }
  async probe(): Promise<ProbeResult> {
    return this.host.up ? 'handshake' : 'down';
  }
  async knownHostKeys(): Promise<string[]> {
    return this.known;
  }
}

function context(name: string, connector: RemoteConnector, job: Job = makeJob({ host: name })) {
  const config = testConfig({ ssh: { user: 'root', key: '/nonexistent', knownHosts: '/tmp/kh', hostKeyPolicy: 'accept-new-after-reinstall' } });
  const host = config.hosts.find((h) => h.name === name)!;
  const events: string[] = [];
  const ctx: StepContext = {
    config,
    koji: {} as never,
    connector,
    drivers: {
      baremetal: { stage: async () => void events.push(`stage (before recorded: ${Boolean(ctx.job.before)})`), reinstall: async () => undefined },
      virt: { stage: async () => void events.push(`stage (before recorded: ${Boolean(ctx.job.before)})`), reinstall: async () => undefined },
    },
    log: pino({ level: 'silent' }),
    job,
    host,
    target: { name, address: name, port: 22 },
    signal: new AbortController().signal,
    timeoutMs: 20_000,
    progress: (m) => void events.push(`progress: ${m}`),
    output: () => undefined,
    save: async () => void events.push(`save (before recorded: ${Boolean(ctx.job.before)})`),
    hostInJob: () => false,
    jobOf: () => undefined,
    hostKeyChanged: () => undefined,
  };
  return { ctx, events };
}

describe('stage-installer records the old system', () => {
  it('bare metal: the presented key, the keys known_hosts lists and /etc/machine-id, saved before the driver stages anything', async () => {
    const host = new ScriptedHost();
    const { ctx, events } = context('buildarm-01', new ScriptedConnector(host, [OLD_KEY, RSA_KEY]));
    await stageInstallerStep.run(ctx);
    expect(ctx.job.before).toMatchObject({ hostKeys: [OLD_KEY, RSA_KEY], machineId: OLD_ID, from: 'host' });
    expect(host.commands).toEqual(['cat /etc/machine-id']);
    expect(events).toEqual(['save (before recorded: true)', 'stage (before recorded: true)']);
  });

  it('a re-run (retry, resume) keeps the record of the old system, whatever the host answers now', async () => {
    const host = new ScriptedHost();
    const connector = new ScriptedConnector(host);
    const { ctx } = context('buildarm-01', connector);
    await recordSystemBefore(ctx);
    const first = structuredClone(ctx.job.before);
    host.hostKey = NEW_KEY;
    host.machineId = NEW_ID;
    const connects = connector.connects;
    await recordSystemBefore(ctx);
    expect(ctx.job.before).toEqual(first);
    expect(connector.connects).toBe(connects); // not even asked
  });

  it('bare metal that cannot be reached fails the step (the driver could not stage either); nothing is recorded', async () => {
    const host = new ScriptedHost();
    host.up = false;
    const { ctx, events } = context('buildarm-01', new ScriptedConnector(host));
    await expect(stageInstallerStep.run(ctx)).rejects.toMatchObject({ code: 'E_SSH_CONNECT' });
    expect(ctx.job.before).toBeUndefined();
    expect(events.filter((e) => e.startsWith('stage'))).toEqual([]);
  });

  it('a virt guest that is down: recorded from known_hosts only, saying so; the job goes on', async () => {
    const host = new ScriptedHost();
    host.up = false;
    const { ctx, events } = context('buildvm-01', new ScriptedConnector(host));
    await stageInstallerStep.run(ctx);
    expect(ctx.job.before).toMatchObject({ hostKeys: [OLD_KEY], from: 'known_hosts' });
    expect(ctx.job.before!.machineId).toBeUndefined();
    expect(events).toContain('progress: buildvm-01 is down: its old system is recorded from known_hosts only');
    expect(events.at(-1)).toBe('stage (before recorded: true)');
  });

  it('a virt guest that is up: logged in to like bare metal', async () => {
    const host = new ScriptedHost();
    const { ctx } = context('buildvm-01', new ScriptedConnector(host));
    await stageInstallerStep.run(ctx);
    expect(ctx.job.before).toMatchObject({ hostKeys: [OLD_KEY], machineId: OLD_ID, from: 'host' });
  });
});

/** What wait-ssh sees come back, against a job whose old system was recorded as given. */
async function prove(name: string, now: { hostKey?: string; machineId?: string }, before?: Job['before'], extra: Partial<Job> = {}) {
  const host = new ScriptedHost();
  host.hostKey = now.hostKey;
  host.machineId = now.machineId;
  const connector = new ScriptedConnector(host);
  const { ctx } = context(name, connector, makeJob({ host: name, before, ...extra }));
  return proveNewSystem(ctx, await connector.connect(ctx.target));
}

const recorded = (machineId?: string, hostKeys = [OLD_KEY]): Job['before'] => ({ at: '2026-12-01T10:00:00.000Z', hostKeys, machineId, from: 'host' });

describe('wait-ssh: proof that the system is new', () => {
  it('a new host key and machine-id: proven, both named', async () => {
    const proof = await prove('buildarm-01', { hostKey: NEW_KEY, machineId: NEW_ID }, recorded(OLD_ID));
    expect(proof).toMatchObject({ hostKey: { before: OLD_KEY, after: NEW_KEY }, machineId: { before: OLD_ID, after: NEW_ID }, changed: ['host key', 'machine-id'] });
    expect(proof.basis).toBeUndefined();
  });

  it('host keys restored by the kickstart: the new machine-id is the proof', async () => {
    const proof = await prove('buildarm-01', { hostKey: OLD_KEY, machineId: NEW_ID }, recorded(OLD_ID));
    expect(proof).toMatchObject({ hostKey: { before: OLD_KEY, after: OLD_KEY }, changed: ['machine-id'] });
  });

  it('a key of another type than the one presented before, but known before, is no new key', async () => {
    await expect(prove('buildarm-01', { hostKey: RSA_KEY, machineId: OLD_ID }, recorded(OLD_ID, [OLD_KEY, RSA_KEY]))).rejects.toMatchObject({
      code: 'E_NOT_REINSTALLED',
    });
  });

  it('the old system back: fails with the line that says what came back and what to check, not retryable', async () => {
    const err = (await prove('buildarm-03', { hostKey: OLD_KEY, machineId: OLD_ID }, recorded(OLD_ID)).catch((e: unknown) => e)) as StepError;
    expect(err).toBeInstanceOf(StepError);
    expect(err.code).toBe('E_NOT_REINSTALLED');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      'buildarm-03 came back with its old system: same host key and machine-id — the installer did not run; check the grub default / the installer URLs',
    );
  });

  it('the same key and no machine-id recorded before: no proof (bare metal)', async () => {
    const err = (await prove('buildarm-03', { hostKey: OLD_KEY, machineId: NEW_ID }, recorded(undefined)).catch((e: unknown) => e)) as StepError;
    expect(err.code).toBe('E_NOT_REINSTALLED');
    expect(err.message).toMatch(/^buildarm-03 came back with its old system: same host key, and no machine-id to tell a new system by \(none was recorded before the reinstall\)/);
  });

  it('a job with no record of the old system (from before rekick kept one): a key accepted in this wait-ssh is the record', async () => {
    const accepted = { hostKey: { previous: OLD_KEY, accepted: NEW_KEY, at: '2026-12-01T10:00:00.000Z' } };
    const proof = await prove('buildarm-01', { hostKey: NEW_KEY, machineId: NEW_ID }, undefined, accepted);
    expect(proof).toMatchObject({ hostKey: { before: OLD_KEY, after: NEW_KEY }, changed: ['host key'] });
    await expect(prove('buildarm-01', { hostKey: OLD_KEY, machineId: NEW_ID })).rejects.toMatchObject({ code: 'E_NOT_REINSTALLED' });
  });

  it('a virt guest with nothing to compare: taken on its re-created domain, and the proof says so', async () => {
    const proof = await prove('buildvm-01', { hostKey: NEW_KEY, machineId: NEW_ID }, { at: '2026-12-01T10:00:00.000Z', hostKeys: [], from: 'known_hosts' });
    expect(proof).toMatchObject({ changed: [], basis: 'virt-install', hostKey: { before: undefined, after: NEW_KEY } });
    // Its kickstart restores the host key and it was down before: the machine-id cannot tell, the domain can.
    const kept = await prove('buildvm-01', { hostKey: OLD_KEY, machineId: NEW_ID }, { at: '2026-12-01T10:00:00.000Z', hostKeys: [OLD_KEY], from: 'known_hosts' });
    expect(kept).toMatchObject({ changed: [], basis: 'virt-install' });
  });

  it('a virt guest back with its old machine-id and key: fails, pointing at virt-install', async () => {
    const err = (await prove('buildvm-01', { hostKey: OLD_KEY, machineId: OLD_ID }, recorded(OLD_ID)).catch((e: unknown) => e)) as StepError;
    expect(err.code).toBe('E_NOT_REINSTALLED');
    expect(err.message).toBe(
      'buildvm-01 came back with its old system: same host key and machine-id — the installer did not run; check installer.tree / installer.virtArgs',
    );
  });
});

describe('which host keys the steps after the reinstall trust', () => {
  const reinstalled = () => {
    const job = makeJob({ host: 'buildarm-01' });
    for (const s of job.steps.slice(0, 4)) s.status = 'succeeded';
    return job;
  };

  it('wait-ssh accepts a changed key only after the reinstall was issued, and only until one is accepted', () => {
    const job = makeJob({ host: 'buildarm-01' });
    expect(waitSshKeyOptions(context('buildarm-01', new ScriptedConnector(new ScriptedHost()), job).ctx)).toEqual({ hostKeyMode: 'strict' });
    const after = reinstalled();
    const { ctx } = context('buildarm-01', new ScriptedConnector(new ScriptedHost()), after);
    expect(waitSshKeyOptions(ctx)).toEqual({ hostKeyMode: 'accept-changed' });
    after.hostKey = { previous: OLD_KEY, accepted: NEW_KEY, at: '2026-12-01T10:00:00.000Z' };
    expect(waitSshKeyOptions(ctx)).toEqual({ hostKeyMode: 'strict', pin: NEW_KEY });
  });

  it('post-install and later: never the window; the key the host came back with, or known_hosts strictly when none was recorded', () => {
    const job = reinstalled();
    expect(pinnedKeyOptions(job)).toEqual({ hostKeyMode: 'strict' });
    job.proof = { at: '2026-12-01T10:00:00.000Z', hostKey: { before: OLD_KEY, after: OLD_KEY }, machineId: { before: OLD_ID, after: NEW_ID }, changed: ['machine-id'] };
    expect(pinnedKeyOptions(job)).toEqual({ hostKeyMode: 'strict', pin: OLD_KEY });
    job.proof = undefined;
    job.hostKey = { previous: OLD_KEY, accepted: NEW_KEY, at: '2026-12-01T10:00:00.000Z' };
    expect(pinnedKeyOptions(job)).toEqual({ hostKeyMode: 'strict', pin: NEW_KEY });
  });
});
