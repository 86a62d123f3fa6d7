/**
 * createSimFleet at lab scale: 1,000 simulated hosts (builders, virthosts and their guests) in one process, each
 * on its own port with its own host key, reachable over SSH; stop() releases every port. The fleet listens on an
 * address of its own in 127.0.0.0/8 and on ports below the system's ephemeral range, so that no other program is
 * handed a host's port while the host is down (a host must come back on its port, with nobody else there).
 */
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from 'ssh2';
import { labHosts } from '../../lab/lab-hosts';
import { ephemeralPortRange } from '../../lab/loopback';
import { generateEd25519KeyPair } from '../../lab/fleet/ssh-keys';
import { createSimFleet, type SimFleet } from '../../lab/fleet/sim-fleet';

const clientKey = generateEd25519KeyPair();
let fleet: SimFleet | undefined;

afterAll(async () => {
  await fleet?.stop();
});

function exec(host: string, port: number, command: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('error', reject)
      .on('ready', () =>
        c.exec(command, (err, s) => {
          if (err) return reject(err);
          let stdout = '';
          let code: number | null = null;
          s.on('data', (d: Buffer) => (stdout += d.toString()));
          s.on('exit', (n: number) => (code = n));
          s.on('close', () => {
            c.end();
            resolve({ code, stdout });
          });
        }),
      )
      .connect({ host, port, username: 'root', privateKey: clientKey.private, readyTimeout: 10_000 });
  });
}

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('a fleet of 1,000', () => {
  it('starts every host on its own port with its own key, answers SSH on any of them, and stops cleanly', async () => {
    const hosts = labHosts(940); // 470 bare metal + 470 guests + 59 virthosts
    expect(hosts.length).toBeGreaterThanOrEqual(999);
    fleet = await createSimFleet({ hosts, clientPublicKey: clientKey.public, rebootDelayMs: 50, installDelayMs: 100 });

    expect(fleet.builders.size + fleet.virthosts.size).toBe(hosts.length);
    const ports = new Set(hosts.map((h) => fleet!.addressOf(h.name).port));
    expect(ports.size).toBe(hosts.length);
    // One address of the fleet's own, and ports no program is handed by the system while a host is down.
    const address = fleet.addressOf(hosts[0]!.name).address;
    expect(new Set(hosts.map((h) => fleet!.addressOf(h.name).address))).toEqual(new Set([address]));
    expect(address).toMatch(/^127\.(\d+)\.\d+\.\d+$/);
    expect(address).not.toBe('127.0.0.1');
    const { low } = ephemeralPortRange();
    for (const p of ports) expect(p).toBeLessThan(low);
    const lines = fleet.knownHostsLines();
    expect(lines).toHaveLength(hosts.length);
    expect(new Set(lines.map((l) => l.split(' ')[2])).size).toBe(hosts.length);

    const last = hosts.filter((h) => h.kind === 'virt').at(-1)!;
    expect(await exec(address, fleet.addressOf(last.name).port, 'hostname && systemctl is-active kojid')).toEqual({ code: 0, stdout: `${last.name}\nactive\n` });
    const vh = hosts.find((h) => h.kind === 'virthost')!;
    expect((await exec(address, fleet.addressOf(vh.name).port, 'virsh list')).stdout).toContain(hosts.find((h) => h.virthost === vh.name)!.name);

    const some = [...ports].slice(0, 5);
    await fleet.stop();
    fleet = undefined;
    for (const p of some) expect(await refused(address, p)).toBe(true);
  }, 60_000);
});
