/** virsh (destroy, undefine, list, domstate) and virt-install on a simulated virthost, acting on its guests. */
import type { SimLibvirt } from '../fleet/sim-host-api';
import type { Program } from './shell-run';

export function virtPrograms(libvirt: SimLibvirt): Map<string, Program> {
  const programs = new Map<string, Program>();

  programs.set('virsh', (ctx) => {
    const args = ctx.argv.slice(1).filter((a) => a !== '-q' && a !== '--quiet');
    // virsh -c URI ...: the connection URI does not matter here.
    if (args[0] === '-c' || args[0] === '--connect') args.splice(0, 2);
    const [verb, ...rest] = args;
    const name = rest.find((a) => !a.startsWith('--'));
    const noDomain = (n: string) => {
      ctx.stderr.write(`error: failed to get domain '${n}'\n`);
      return 1;
    };
    switch (verb) {
      case 'list': {
        const all = rest.includes('--all');
        const rows = libvirt.domains().filter((d) => all || d.state === 'running');
        if (rest.includes('--name')) {
          ctx.stdout.write(rows.map((d) => `${d.name}\n`).join('') + '\n');
          return 0;
        }
        ctx.stdout.write(' Id   Name                 State\n------------------------------------\n');
        rows.forEach((d, i) => ctx.stdout.write(` ${d.state === 'running' ? String(i + 1).padEnd(4) : '-   '} ${d.name.padEnd(20)} ${d.state}\n`));
        ctx.stdout.write('\n');
        return 0;
      }
      case 'domstate': {
        if (!name) break;
        const d = libvirt.domains().find((x) => x.name === name);
        if (!d) return noDomain(name);
        ctx.stdout.write(`${d.state}\n\n`);
        return 0;
      }
      case 'destroy': {
        if (!name) break;
        const r = libvirt.destroy(name);
        if (r === 'unknown') return noDomain(name);
        // rekick's contract: no error when the guest is not running (real virsh exits 1 here).
        if (r === 'not-running') ctx.stderr.write(`error: Failed to destroy domain '${name}'\nerror: Requested operation is not valid: domain is not running\n`);
        else ctx.stdout.write(`Domain '${name}' destroyed\n\n`);
        return 0;
      }
      case 'undefine': {
        if (!name) break;
        if (!libvirt.undefine(name)) return noDomain(name);
        ctx.stdout.write(`Domain '${name}' has been undefined\n\n`);
        return 0;
      }
      default:
        ctx.stderr.write(verb ? `error: unknown command: '${verb}'\n` : 'error: a command is needed\n');
        return 1;
    }
    ctx.stderr.write(`error: command '${verb}' requires <domain> option\n`);
    return 1;
  });

  programs.set('virt-install', (ctx) => {
    const args = ctx.argv.slice(1);
    const option = (n: string) => {
      for (let i = 0; i < args.length; i++) {
        if (args[i] === n) return args[i + 1];
        if (args[i]!.startsWith(n + '=')) return args[i]!.slice(n.length + 1);
      }
      return undefined;
    };
    const name = option('--name') ?? option('-n');
    if (!name) {
      ctx.stderr.write('ERROR    --name is required\n');
      return 1;
    }
    const location = option('--location') ?? option('-l');
    const extraArgs = option('--extra-args') ?? option('-x');
    if (extraArgs !== undefined && !location) {
      ctx.stderr.write('ERROR    Kernel arguments are only supported with location or kernel installs.\n');
      return 1;
    }
    const r = libvirt.install(name, { location, extraArgs, args });
    if (r === 'exists') {
      ctx.stderr.write(`ERROR    Guest name '${name}' is already in use.\n`);
      return 1;
    }
    ctx.stdout.write('\nStarting install...\nCreating domain...\nDomain is still running. Installation may be in progress.\n');
    return 0;
  });

  return programs;
}
