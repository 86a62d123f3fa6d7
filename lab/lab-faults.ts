/**
 * Faults the lab's command line puts on its simulated hosts (`rekick lab --fault KIND:HOST`, repeatable), so a
 * person at the lab terminal can watch rekick meet them: e.g. `--fault skip-install:buildarm-03` makes that builder
 * boot its old system instead of the installer, and its reinstall fails at wait-ssh instead of asking for approval.
 */
import { CodedError } from '../src';
import type { Fault } from './fleet/sim-faults';

/** The faults the command line takes, with what each does (for --help and errors). */
export const LAB_FAULTS = {
  'skip-install': 'installs do not happen: the host boots its old system (old host key and machine-id)',
  'no-return': 'the host never comes back from its next reboot or install',
  refuse: 'nothing listens on the host\'s SSH port',
} as const satisfies Record<string, string>;

export type LabFaultKind = keyof typeof LAB_FAULTS;

export interface LabFault {
  kind: LabFaultKind;
  host: string;
}

/** Parses `KIND:HOST` specs against the lab's host names; a bad one is a usage error and nothing starts. */
export function parseLabFaults(specs: readonly string[], hosts: readonly string[]): LabFault[] {
  return specs.map((spec) => {
    const at = spec.indexOf(':');
    const kind = at < 0 ? spec : spec.slice(0, at);
    const host = at < 0 ? '' : spec.slice(at + 1);
    if (!Object.hasOwn(LAB_FAULTS, kind)) {
      throw new CodedError('E_USAGE', `--fault ${spec}: unknown fault "${kind}"; one of ${Object.keys(LAB_FAULTS).join(', ')} (as KIND:HOST)`);
    }
    if (!host) throw new CodedError('E_USAGE', `--fault ${spec}: name the host, as ${kind}:HOST`);
    if (!hosts.includes(host)) {
      throw new CodedError('E_USAGE', `--fault ${spec}: the lab has no host named ${host} (it has ${hosts.slice(0, 6).join(', ')}${hosts.length > 6 ? ', …' : ''}; --hosts N for more)`);
    }
    return { kind: kind as LabFaultKind, host };
  });
}

export function simFault(fault: LabFault): Fault {
  return { kind: fault.kind };
}

export function describeLabFault(fault: LabFault): string {
  return `fault ${fault.kind} on ${fault.host} (${LAB_FAULTS[fault.kind]})`;
}
