/** Virthost connections shared between jobs: one login serves many callers, and never outlives its use. */
import { describe, expect, it } from 'vitest';
import { SharedConnections } from '../../src/ssh/shared-connections';
import type { ConnectOptions, HostTarget, RemoteConnector, RemoteHost } from '../../src/ssh/types';

interface FakeRemote extends RemoteHost {
  id: number;
  closed: boolean;
  dropped: boolean;
}

/** A connector whose connections open when the test says so (or at once), counting them. */
function fakeConnector(options: { manual?: boolean } = {}) {
  const made: FakeRemote[] = [];
  const pending: Array<() => void> = [];
  const failNext: Error[] = [];
  const connector: RemoteConnector = {
    connect(target: HostTarget, _o: ConnectOptions) {
      const fail = failNext.shift();
      const remote: FakeRemote = {
        id: made.length + 1,
        target,
        closed: false,
        dropped: false,
        get open() {
          return !this.closed && !this.dropped;
        },
        exec: async () => {
          if (remote.closed || remote.dropped) throw new Error(`connection ${remote.id} is closed`);
          return { code: 0, stdout: `conn ${remote.id}`, stderr: '', signal: undefined } as never;
        },
        writeFile: async () => undefined,
        readFile: async () => Buffer.alloc(0),
        close: async () => {
          remote.closed = true;
        },
      };
      if (!fail) made.push(remote);
      return new Promise<RemoteHost>((resolve, reject) => {
        const settle = () => (fail ? reject(fail) : resolve(remote));
        if (options.manual) pending.push(settle);
        else settle();
      });
    },
    probe: async () => 'handshake',
  };
  return { connector, made, pending, failNext };
}

const vh: HostTarget = { name: 'bvmhost-01', address: '127.0.0.1', port: 2201 };
const shared: ConnectOptions = { hostKeyMode: 'strict', shared: true };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SharedConnections', () => {
  it('gives every shared caller of one host the same login, side by side and one after another', async () => {
    const f = fakeConnector();
    const pool = new SharedConnections(f.connector, { idleMs: 1000 });
    const [a, b] = await Promise.all([pool.connect(vh, shared), pool.connect(vh, shared)]);
    expect((await a.exec('virsh list')).stdout).toBe('conn 1');
    expect((await b.exec('virsh list')).stdout).toBe('conn 1');
    await a.close();
    await b.close({ keep: true });
    const c = await pool.connect(vh, shared); // the next guest's job, a moment later
    expect((await c.exec('virsh list')).stdout).toBe('conn 1');
    await c.close();
    expect(f.made).toHaveLength(1);
    expect(f.made[0]!.closed).toBe(false); // kept for the next caller until idle
    expect(pool.opened).toBe(1);
    expect(pool.leased).toBe(3);
    await pool.closeAll();
    expect(f.made[0]!.closed).toBe(true);
  });

  it('closes a connection nobody held for idleMs', async () => {
    const f = fakeConnector();
    const pool = new SharedConnections(f.connector, { idleMs: 20 });
    const a = await pool.connect(vh, shared);
    await sleep(40);
    expect(f.made[0]!.closed).toBe(false); // held: never closed under a lease
    await a.close();
    await sleep(60);
    expect(f.made[0]!.closed).toBe(true);
    const b = await pool.connect(vh, shared);
    expect((await b.exec('x')).stdout).toBe('conn 2');
    await pool.closeAll();
  });

  it('connects as before without `shared`, with accept-changed, and to other hosts', async () => {
    const f = fakeConnector();
    const pool = new SharedConnections(f.connector);
    await pool.connect(vh, { hostKeyMode: 'strict' });
    await pool.connect(vh, { hostKeyMode: 'strict' });
    await pool.connect(vh, { hostKeyMode: 'accept-changed', shared: true });
    await pool.connect({ ...vh, name: 'bvmhost-02', port: 2202 }, shared);
    await pool.connect(vh, shared);
    expect(f.made).toHaveLength(5);
    expect(pool.opened).toBe(2);
    await pool.closeAll();
  });

  it('replaces a connection the host dropped, and a lease given back cannot be used', async () => {
    const f = fakeConnector();
    const pool = new SharedConnections(f.connector);
    const a = await pool.connect(vh, shared);
    f.made[0]!.dropped = true;
    expect(a.open).toBe(false);
    await expect(a.exec('x')).rejects.toThrow(/closed/);
    await a.close();
    const b = await pool.connect(vh, shared);
    expect((await b.exec('x')).stdout).toBe('conn 2');
    await b.close();
    await expect(b.exec('x')).rejects.toThrow(/given its shared connection back already/);
    expect(b.open).toBe(false);
    await pool.closeAll();
  });

  it('past maxLeases, a caller gets a connection of its own', async () => {
    const f = fakeConnector();
    const pool = new SharedConnections(f.connector, { maxLeases: 2 });
    const leases = await Promise.all([1, 2, 3].map(() => pool.connect(vh, shared)));
    expect(await Promise.all(leases.map(async (l) => (await l.exec('x')).stdout))).toEqual(['conn 1', 'conn 1', 'conn 2']);
    await leases[2]!.close();
    expect(f.made[1]!.closed).toBe(true); // its own: closed like any unshared connection
    await pool.closeAll();
  });

  it('a caller that gives up while the login is under way does not fail the others, and the login is not leaked', async () => {
    const f = fakeConnector({ manual: true });
    const pool = new SharedConnections(f.connector, { idleMs: 20 });
    const quitter = new AbortController();
    const first = pool.connect(vh, { ...shared, signal: quitter.signal });
    const second = pool.connect(vh, shared);
    quitter.abort(new Error('job cancelled'));
    await expect(first).rejects.toThrow('job cancelled');
    f.pending.shift()!();
    const b = await second;
    expect((await b.exec('x')).stdout).toBe('conn 1');
    await b.close();
    await sleep(60);
    expect(f.made[0]!.closed).toBe(true);

    // Everyone gave up: the login, once up, still closes when idle.
    const alone = new AbortController();
    const lone = pool.connect(vh, { ...shared, signal: alone.signal });
    alone.abort(new Error('gone'));
    await expect(lone).rejects.toThrow('gone');
    f.pending.shift()!();
    await sleep(60);
    expect(f.made[1]!.closed).toBe(true);
  });

  it('a failed login fails each waiter and the next connect tries again', async () => {
    const f = fakeConnector();
    const pool = new SharedConnections(f.connector);
    f.failNext.push(new Error('ECONNREFUSED'));
    await expect(Promise.all([pool.connect(vh, shared), pool.connect(vh, shared)])).rejects.toThrow('ECONNREFUSED');
    const c = await pool.connect(vh, shared);
    expect((await c.exec('x')).stdout).toBe('conn 1');
    await pool.closeAll();
  });

  it('closeAll closes a login still under way as soon as it is up', async () => {
    const f = fakeConnector({ manual: true });
    const pool = new SharedConnections(f.connector);
    const a = pool.connect(vh, shared);
    await pool.closeAll();
    f.pending.shift()!();
    await a; // the waiter still gets it, and its commands fail: rekick is stopping
    await sleep(0);
    expect(f.made[0]!.closed).toBe(true);
  });
});
