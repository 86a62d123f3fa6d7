/** systemctl, hostnamectl, grubby, grub2-reboot and grub2-editenv on a simulated host, acting on its SimMachine. */
import type { SimHostApi } from '../fleet/sim-host-api';
import type { Program, ProgramContext } from './shell-run';

function unitName(arg: string): string {
  return arg.replace(/\.service$/, '');
}

/** `--opt=value` or `--opt value`; returns undefined when absent. */
function longOption(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === name) return args[i + 1] ?? '';
    if (a.startsWith(name + '=')) return a.slice(name.length + 1);
  }
  return undefined;
}

function hasOption(args: string[], name: string): boolean {
  return args.some((a) => a === name || a.startsWith(name + '='));
}

export function systemPrograms(host: SimHostApi): Map<string, Program> {
  const m = host.machine;
  const programs = new Map<string, Program>();

  programs.set('systemctl', (ctx) => {
    const args = ctx.argv.slice(1).filter((a) => !a.startsWith('-') || a === '--now');
    const now = args.includes('--now');
    const [verb, ...rest] = args.filter((a) => a !== '--now');
    const units = rest.map(unitName);
    const missing = (u: string) => !m.units.has(u);
    switch (verb) {
      case 'reboot':
        host.requestReboot();
        return 0;
      case 'daemon-reload':
        return 0;
      case 'enable':
      case 'disable': {
        for (const u of units) {
          if (missing(u)) {
            ctx.stderr.write(`Failed to ${verb} unit: Unit file ${u}.service does not exist.\n`);
            return 1;
          }
        }
        for (const u of units) {
          if (verb === 'enable') {
            if (!m.enabled.has(u)) ctx.stderr.write(`Created symlink /etc/systemd/system/multi-user.target.wants/${u}.service → /usr/lib/systemd/system/${u}.service.\n`);
            m.enabled.add(u);
          } else {
            if (m.enabled.has(u)) ctx.stderr.write(`Removed "/etc/systemd/system/multi-user.target.wants/${u}.service".\n`);
            m.enabled.delete(u);
          }
        }
        if (now) return verb === 'enable' ? start(ctx, units) : stop(units);
        return 0;
      }
      case 'start':
      case 'restart':
        return start(ctx, units);
      case 'stop':
        for (const u of units) {
          if (missing(u)) {
            ctx.stderr.write(`Failed to stop ${u}.service: Unit ${u}.service not loaded.\n`);
            return 5;
          }
        }
        return stop(units);
      case 'is-active': {
        let all = units.length > 0;
        for (const u of units) {
          const state = m.active.has(u) ? 'active' : m.units.has(u) && m.enabled.has(u) && m.cannotStart(u) ? 'failed' : 'inactive';
          ctx.stdout.write(`${state}\n`);
          if (state !== 'active') all = false;
        }
        return all ? 0 : 3;
      }
      case 'is-enabled': {
        for (const u of units) {
          if (missing(u)) {
            ctx.stderr.write(`Failed to get unit file state for ${u}.service: No such file or directory\n`);
            return 1;
          }
          ctx.stdout.write(m.enabled.has(u) ? 'enabled\n' : 'disabled\n');
          if (!m.enabled.has(u)) return 1;
        }
        return units.length ? 0 : 1;
      }
      case 'status':
        for (const u of units) ctx.stdout.write(`● ${u}.service\n     Active: ${m.active.has(u) ? 'active (running)' : 'inactive (dead)'}\n`);
        return units.every((u) => m.active.has(u)) ? 0 : 3;
      default:
        ctx.stderr.write(verb ? `Unknown command verb '${verb}'.\n` : 'systemctl: a command is needed (the simulator does not list units)\n');
        return 1;
    }
  });

  function start(ctx: ProgramContext, units: string[]): number {
    for (const u of units) {
      const why = m.cannotStart(u);
      if (why) {
        ctx.stderr.write(
          m.units.has(u)
            ? `Job for ${u}.service failed because the control process exited with error code.\nSee "systemctl status ${u}.service" and "journalctl -xeu ${u}.service" for details.\n`
            : `Failed to start ${u}.service: Unit ${u}.service not found.\n`,
        );
        return m.units.has(u) ? 1 : 5;
      }
      m.active.add(u);
    }
    return 0;
  }

  function stop(units: string[]): number {
    for (const u of units) m.active.delete(u);
    return 0;
  }

  programs.set('hostnamectl', (ctx) => {
    const args = ctx.argv.slice(1).filter((a) => !a.startsWith('--'));
    const [verb, name] = args;
    if (verb === 'set-hostname' || verb === 'hostname') {
      if (verb === 'hostname' && name === undefined) {
        ctx.stdout.write(`${m.hostname}\n`);
        return 0;
      }
      if (!name || !/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(name)) {
        ctx.stderr.write(`Invalid hostname '${name ?? ''}'\n`);
        return 1;
      }
      m.hostname = name;
      m.fs.write('/etc/hostname', `${name}\n`);
      return 0;
    }
    if (verb === undefined || verb === 'status') {
      ctx.stdout.write(` Static hostname: ${m.hostname}\nOperating System: Fedora Linux 43 (Server Edition)\n    Architecture: ${m.arch}\n`);
      return 0;
    }
    ctx.stderr.write(`Unknown command verb '${verb}'.\n`);
    return 1;
  });

  programs.set('grubby', (ctx) => {
    const args = ctx.argv.slice(1);
    if (hasOption(args, '--default-kernel')) {
      ctx.stdout.write(`${m.defaultKernel}\n`);
      return 0;
    }
    const info = longOption(args, '--info');
    if (info !== undefined) {
      const entries = m.grubEntries.map((e, i) => [e, i] as const).filter(([e, i]) => info === 'ALL' || e.kernel === info || e.title === info || String(i) === info);
      if (!entries.length) {
        ctx.stderr.write(`The param ${info} is incorrect\n`);
        return 1;
      }
      for (const [e, i] of entries) {
        ctx.stdout.write(`index=${i}\nkernel="${e.kernel}"\nargs="${e.args}"\n${e.initrd ? `initrd="${e.initrd}"\n` : ''}title="${e.title}"\n`);
      }
      return 0;
    }
    const remove = longOption(args, '--remove-kernel');
    if (remove !== undefined) {
      const before = m.grubEntries.length;
      const matches = (e: { title: string; kernel: string }) => (remove.startsWith('TITLE=') ? e.title === remove.slice(6) : remove === 'ALL' || e.kernel === remove);
      m.grubEntries = m.grubEntries.filter((e) => e.kernel === m.defaultKernel || !matches(e));
      if (m.grubEntries.length === before) ctx.stderr.write(`The param ${remove} is incorrect\n`);
      return 0;
    }
    const kernel = longOption(args, '--add-kernel');
    if (kernel !== undefined) {
      const title = longOption(args, '--title');
      if (!kernel.startsWith('/') || !m.fs.isFile(kernel)) {
        ctx.stderr.write(`The param ${kernel} is incorrect\n`);
        return 1;
      }
      if (!title) {
        ctx.stderr.write('grubby: kernel title must be specified\n');
        return 1;
      }
      const initrd = longOption(args, '--initrd');
      if (initrd !== undefined && !m.fs.isFile(initrd)) {
        ctx.stderr.write(`The initrd ${initrd} does not exist\n`);
        return 1;
      }
      // A rerun replaces an entry for the same kernel or title instead of piling them up.
      m.grubEntries = m.grubEntries.filter((e) => e.kernel === m.defaultKernel || (e.kernel !== kernel && e.title !== title));
      m.grubEntries.push({ kernel, initrd, title, args: longOption(args, '--args') ?? '' });
      return 0;
    }
    ctx.stderr.write('grubby: no action specified (the simulator knows --add-kernel, --remove-kernel, --info, --default-kernel)\n');
    return 1;
  });

  programs.set('grub2-reboot', (ctx) => {
    const entry = ctx.argv.slice(1).find((a) => !a.startsWith('--'));
    if (entry === undefined) {
      ctx.stderr.write('grub2-reboot: error: menu entry not specified.\n');
      return 1;
    }
    // Like the real one, it records the name without checking it; an unknown entry boots the default.
    m.nextEntry = entry;
    return 0;
  });

  // The grub environment block: `next_entry` is the machine's one-time entry (what grub2-reboot set).
  programs.set('grub2-editenv', (ctx) => {
    const [file, verb, ...names] = ctx.argv.slice(1);
    if (file !== '-' && file !== '/boot/grub2/grubenv') {
      ctx.stderr.write(`grub2-editenv: error: cannot open \`${file ?? ''}': No such file or directory.\n`);
      return 1;
    }
    if (verb === 'list') {
      ctx.stdout.write(`saved_entry=${m.defaultKernel}\n${m.nextEntry !== undefined ? `next_entry=${m.nextEntry}\n` : ''}`);
      return 0;
    }
    if (verb === 'unset') {
      if (names.includes('next_entry')) m.nextEntry = undefined;
      return 0;
    }
    ctx.stderr.write(`grub2-editenv: error: unrecognized command \`${verb ?? ''}'.\n`);
    return 1;
  });

  return programs;
}
