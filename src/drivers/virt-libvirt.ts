/**
 * Virt guests, per the host requirements (docs/operator-guide.md, "SSH"), on the guest's virthost. Stage: `virsh
 * destroy NAME` (fine when it is not running) and `virsh undefine NAME --nvram` (fine when already gone).
 * Reinstall: `virt-install --name NAME --location TREE --extra-args "inst.ks=... ARGS" VIRTARGS`, done once the
 * install has started. Every command names only this guest.
 */
import type { Config, HostConfig } from '../config/schema';
import { StepError, UserError } from '../errors';
import { hostTarget } from '../steps/host-target';
import { RemoteCommandError } from '../ssh/errors';
import { hostValues, substitute } from '../ssh/placeholders';
import { shellQuote, splitWords } from '../ssh/shell-quote';
import type { ExecResult, RemoteHost } from '../ssh/types';
import { installerValues } from './installer-args';
import type { DriverContext, HostDriver } from './types';

const NOT_RUNNING = /domain is not running|not running/i;
const NO_SUCH_DOMAIN = /failed to get domain|domain not found|no domain with matching name/i;

export function virthostOf(config: Config, host: HostConfig): HostConfig {
  const vh = config.hosts.find((h) => h.name === host.virthost);
  if (!vh || vh.kind !== 'virthost') {
    throw new StepError('E_NO_VIRTHOST', `${host.name} is a virt guest but its virthost "${host.virthost}" is not a virthost in the config`);
  }
  return vh;
}

/** The virt-install command line for a guest; every value quoted. */
export function virtInstallCommand(config: Config, host: HostConfig): string {
  if (!config.installer.tree) {
    throw new StepError('E_CONFIG', `installer.tree is not set: virt-install needs an install tree for ${host.name} (--location)`);
  }
  const v = hostValues(host);
  const inst = installerValues(config, host);
  const site = splitWords(config.installer.virtArgs).map((w) => shellQuote(substitute(w, v)));
  return [
    'virt-install',
    '--name',
    shellQuote(host.name),
    '--location',
    shellQuote(substitute(config.installer.tree, v)),
    '--extra-args',
    shellQuote(inst.args),
    ...site,
  ].join(' ');
}

export function createVirtLibvirtDriver(): HostDriver {
  return {
    async stage(ctx) {
      await onVirthost(ctx, async (remote, vhName) => {
        const name = ctx.host.name;
        ctx.progress(`stopping guest ${name} on ${vhName}`);
        const destroy = await tolerate(remote, ctx, `virsh destroy ${shellQuote(name)}`, (out) => NOT_RUNNING.test(out) || NO_SUCH_DOMAIN.test(out));
        if (destroy.code !== 0) ctx.progress(`guest ${name} was not running`);
        ctx.progress(`removing guest ${name}'s definition on ${vhName}`);
        await tolerate(remote, ctx, `virsh undefine ${shellQuote(name)} --nvram`, (out) => NO_SUCH_DOMAIN.test(out));
      });
    },

    async reinstall(ctx) {
      const command = virtInstallCommand(ctx.config, ctx.host);
      await onVirthost(ctx, async (remote, vhName) => {
        ctx.progress(`starting virt-install of ${ctx.host.name} on ${vhName}`);
        await remote.exec(command, { signal: ctx.signal, timeoutMs: ctx.timeoutMs, onLine: (l) => ctx.output(l) });
      });
    },
  };
}

/** Runs a command whose failure is fine when its output matches `harmless`. */
async function tolerate(remote: RemoteHost, ctx: DriverContext, command: string, harmless: (output: string) => boolean): Promise<ExecResult> {
  const r = await remote.exec(command, { signal: ctx.signal, timeoutMs: ctx.timeoutMs, onLine: (l) => ctx.output(l), allowFailure: true });
  if (r.code !== 0 && !harmless(r.stdout + r.stderr)) {
    throw new RemoteCommandError(remote.target.name, command, r);
  }
  return r;
}

async function onVirthost(ctx: DriverContext, fn: (remote: RemoteHost, virthost: string) => Promise<void>): Promise<void> {
  const vh = virthostOf(ctx.config, ctx.host);
  if (ctx.hostInJob?.(vh.name)) {
    throw new UserError(`${vh.name}, the virthost of ${ctx.host.name}, is itself being reinstalled: try again when its job is done`, 'E_VIRTHOST_BUSY');
  }
  // Shared: the virthost stays up, and its guests' jobs come one after another (one login serves them all).
  const remote = await ctx.connector.connect(hostTarget(vh), { hostKeyMode: 'strict', signal: ctx.signal, shared: true });
  try {
    await fn(remote, vh.name);
  } catch (err) {
    await remote.close();
    throw err;
  }
  await remote.close({ keep: true }); // the virthost stays up: the job's next step on it reuses the connection
}
