/**
 * Where the lab's simulated hosts listen. A simulated host stops listening while it is down (a powered-off machine
 * answers nothing) and must get the same port back when it boots. The ports the system hands out (a listen on
 * port 0, and the local port of every outgoing connection) come from its ephemeral range; a host port from that
 * range can be handed to another program while the host is down, and then the host cannot come back, or rekick
 * reaches the other program and reports a changed host key. So a fleet listens on an address of its own in
 * 127.0.0.0/8 (where connections to other programs on 127.0.0.1 never meet it) and on ports below the ephemeral
 * range (which only an explicit bind can take).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** The system's ephemeral port range (Linux: /proc; elsewhere IANA's 49152-65535). */
export function ephemeralPortRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! > 0 && high! >= low!) return { low: low!, high: high! };
  } catch {
    // not Linux: the IANA range below
  }
  return { low: 49_152, high: 65_535 };
}

/** Ports a simulated host may take: below the ephemeral range, above the well-known ones; undefined when none. */
export function stablePortRange(): { min: number; max: number } | undefined {
  const { low } = ephemeralPortRange();
  const min = Math.max(1_024, Math.min(20_000, low - 8_000));
  const max = low - 1;
  return max - min >= 2_000 ? { min, max } : undefined;
}

/** A random port of the stable range (0, the system's choice, when the system leaves no such range). */
export function randomStablePort(): number {
  const range = stablePortRange();
  return range ? range.min + Math.floor(Math.random() * (range.max - range.min + 1)) : 0;
}

/**
 * An address of 127.0.0.0/8 for one fleet: 127.A.B.C with A in 2..99 (127.0.x.x is the usual loopback; the sshd
 * test peers use 127.100-249.x.x), checked by binding it. Falls back to 127.0.0.1 where only that address is
 * configured (not Linux).
 */
export async function fleetLoopbackAddress(): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const address = `127.${2 + Math.floor(Math.random() * 98)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
    const usable = await canBind(address);
    if (usable === 'yes') return address;
    if (usable === 'not-local') return '127.0.0.1';
  }
  return '127.0.0.1';
}

function canBind(address: string): Promise<'yes' | 'not-local' | 'busy'> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRNOTAVAIL' ? 'not-local' : 'busy'));
    server.listen({ host: address, port: 0 }, () => server.close(() => resolve('yes')));
  });
}
