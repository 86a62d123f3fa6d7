/**
 * `rekick lab`: the subcommand the lab adds to rekick's command line (bin/cli.ts puts them together).
 */
import type { Subcommand } from '../src';
import { runLab } from './run-lab';

export const labSubcommand: Subcommand = {
  usage: 'rekick lab [--hosts N] [--dir DIR] [--fast] [--fault KIND:HOST]... (KIND: skip-install, no-return, refuse)',
  summary: 'run rekick against a simulated fleet and Koji hub on loopback, with chat in this terminal',
  options: {
    hosts: { type: 'string', default: '6' },
    dir: { type: 'string' },
    fast: { type: 'boolean', default: false },
    'peers-only': { type: 'boolean', default: false },
    'http-port': { type: 'string' },
    fault: { type: 'string', multiple: true },
  },
  run: (v) =>
    runLab({
      hosts: Number(v.hosts),
      dir: v.dir as string | undefined,
      fast: Boolean(v.fast),
      peersOnly: Boolean(v['peers-only']),
      httpPort: v['http-port'] === undefined ? undefined : Number(v['http-port']),
      faults: (v.fault as string[] | undefined) ?? [],
    }),
};
