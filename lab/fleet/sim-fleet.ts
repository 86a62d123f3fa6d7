/**
 * The lab's simulated fleet: one SimBuilder per builder host of the config and one SimVirthost per virthost, each
 * guest attached to its virthost, all on an address of the fleet's own in 127.0.0.0/8, each host on a port it keeps
 * across reboots (loopback.ts). Sized for a thousand hosts in one process: machines are made on first use and host
 * keys take well under a millisecond each.
 */
import pino from 'pino';
import { CodedError, type HostConfig } from '../../src';
import { fleetLoopbackAddress } from '../loopback';
import { parseClientKey, type SimHost, type SimRecord } from './sim-host';
import { SimBuilder } from './sim-builder';
import { SimVirthost } from './sim-virthost';

/** What the fleet needs of a host entry (a config HostConfig has all of it). */
export type SimHostSpec = Pick<HostConfig, 'name' | 'kind'> & { arch?: string; virthost?: string };

export interface SimFleetOptions {
  hosts: SimHostSpec[];
  /** The public key rekick logs in with (`ssh-ed25519 AAAA...`). */
  clientPublicKey: string | Buffer;
  user?: string;
  /** Default: an address of the fleet's own in 127.0.0.0/8 (loopback.ts). */
  address?: string;
  rebootDelayMs?: number;
  installDelayMs?: number;
  logger?: pino.Logger;
  /** Told of every command, SFTP change and power event on any host (the lab can show them). */
  onRecord?: (record: SimRecord) => void;
}

export interface SimFleet {
  builders: Map<string, SimBuilder>;
  virthosts: Map<string, SimVirthost>;
  /** Any host by name. */
  get(name: string): SimHost | undefined;
  addressOf(name: string): { address: string; port: number };
  /** known_hosts lines for every host's current key. */
  knownHostsLines(): string[];
  stop(): Promise<void>;
}

export async function createSimFleet(options: SimFleetOptions): Promise<SimFleet> {
  const clientKey = parseClientKey(options.clientPublicKey);
  const common = {
    clientKey,
    user: options.user,
    address: options.address ?? (await fleetLoopbackAddress()),
    rebootDelayMs: options.rebootDelayMs,
    installDelayMs: options.installDelayMs,
    logger: options.logger ?? pino({ level: 'silent' }),
    onRecord: options.onRecord,
  };
  const builders = new Map<string, SimBuilder>();
  const virthosts = new Map<string, SimVirthost>();
  for (const h of options.hosts) {
    if (builders.has(h.name) || virthosts.has(h.name)) throw new CodedError('E_SIM_FLEET', `host ${h.name} is listed twice`);
    if (h.kind === 'virthost') virthosts.set(h.name, new SimVirthost({ ...common, name: h.name, arch: h.arch }));
    else builders.set(h.name, new SimBuilder({ ...common, name: h.name, arch: h.arch, kind: h.kind }));
  }
  for (const h of options.hosts) {
    if (h.kind !== 'virt') continue;
    const vh = h.virthost ? virthosts.get(h.virthost) : undefined;
    if (!vh) throw new CodedError('E_SIM_FLEET', `virt host ${h.name} names virthost "${h.virthost ?? ''}", which is not in the host list`);
    vh.addGuest(builders.get(h.name)!);
  }
  const all = (): SimHost[] => [...virthosts.values(), ...builders.values()];
  try {
    await Promise.all(all().map((s) => s.start()));
  } catch (err) {
    await Promise.all(all().map((s) => s.stop()));
    throw err;
  }

  const get = (name: string): SimHost | undefined => builders.get(name) ?? virthosts.get(name);
  return {
    builders,
    virthosts,
    get,
    addressOf(name) {
      const s = get(name);
      if (!s) throw new CodedError('E_SIM_FLEET', `no simulated host named ${name}`);
      return { address: s.address, port: s.port };
    },
    knownHostsLines: () => all().map((s) => s.knownHostsLine()),
    async stop() {
      await Promise.all(all().map((s) => s.stop()));
    },
  };
}
