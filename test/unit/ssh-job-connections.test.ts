/**
 * A job's connections: a step that hands its connection on (`close({ keep: true })`) saves the next step a login;
 * a plain close, a dropped connection, an idle one or the job's end never leave a connection to be reused.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobConnections } from '../../src/ssh/job-connections';
import type { HostTarget, RemoteConnector, RemoteHost } from '../../src/ssh/types';

const builder: HostTarget = { name: 'buildarm-01', address: '10.0.0.1', port: 22 };
const virthost: HostTarget = { name: 'virthost-01', address: '10.0.0.9', port: 22 };

class FakeRemote implements RemoteHost {
  open = true;
  hostKey?: string;
  closes = 0;
  constructor(readonly target: HostTarget) {}
  async exec() {
    return { code: 0, signal: null, tail: [] } as never;
  }
  async writeFile() {}
  async readFile() {
    return Buffer.alloc(0);
  }
  async close() {
    this.closes++;
    this.open = false;
  }
}

class CountingConnector implements RemoteConnector {
  made: FakeRemote[] = [];
  async connect(target: HostTarget): Promise<RemoteHost> {
    const r = new FakeRemote(target);
    this.made.push(r);
    return r;
  }
  async probe() {
    return 'handshake' as const;
  }
}

afterEach(() => vi.useRealTimers());

describe('a job’s SSH connections', () => {
  it('a connection handed on is reused by the next connect to the same host, once', async () => {
    const inner = new CountingConnector();
    const job = new JobConnections(inner);
    const first = await job.connect(builder, { hostKeyMode: 'accept-changed' });
    await first.close({ keep: true });
    const second = await job.connect(builder, { hostKeyMode: 'strict' });
    expect(inner.made).toHaveLength(1);
    expect(job.reused).toBe(1);
    expect(inner.made[0]!.closes).toBe(0);
    await second.close(); // not handed on: really closed, the next connect logs in anew
    expect(inner.made[0]!.closes).toBe(1);
    await job.connect(builder, { hostKeyMode: 'strict' });
    expect(inner.made).toHaveLength(2);
  });

  it('keeps per host: a virthost connection is not given to its guest', async () => {
    const inner = new CountingConnector();
    const job = new JobConnections(inner);
    await (await job.connect(virthost, { hostKeyMode: 'strict' })).close({ keep: true });
    const guest = await job.connect(builder, { hostKeyMode: 'strict' });
    expect(guest.target).toBe(builder);
    expect(inner.made).toHaveLength(2);
  });

  it('never reuses a connection the host dropped while it was kept', async () => {
    const inner = new CountingConnector();
    const job = new JobConnections(inner);
    await (await job.connect(builder, { hostKeyMode: 'strict' })).close({ keep: true });
    inner.made[0]!.open = false; // e.g. the host rebooted
    await job.connect(builder, { hostKeyMode: 'strict' });
    expect(inner.made).toHaveLength(2);
    expect(job.reused).toBe(0);
  });

  it('closes a kept connection nobody took within the idle time, and everything kept when the job stops', async () => {
    vi.useFakeTimers();
    const inner = new CountingConnector();
    const job = new JobConnections(inner, 1000);
    await (await job.connect(builder, { hostKeyMode: 'strict' })).close({ keep: true });
    await vi.advanceTimersByTimeAsync(1500);
    expect(inner.made[0]!.closes).toBe(1);
    await (await job.connect(virthost, { hostKeyMode: 'strict' })).close({ keep: true });
    await job.closeAll();
    expect(inner.made[1]!.closes).toBe(1);
    await job.connect(virthost, { hostKeyMode: 'strict' });
    expect(inner.made).toHaveLength(3);
  });

  it('a pinned connect takes a kept connection only when its host presented the pinned key', async () => {
    const inner = new CountingConnector();
    const job = new JobConnections(inner);
    const first = await job.connect(builder, { hostKeyMode: 'strict' });
    inner.made[0]!.hostKey = 'SHA256:kept';
    await first.close({ keep: true });
    const other = await job.connect(builder, { hostKeyMode: 'strict', pin: 'SHA256:pinned' });
    expect(inner.made).toHaveLength(2); // a new login, checked against the pin by the connector
    expect(inner.made[0]!.closes).toBe(1);
    inner.made[1]!.hostKey = 'SHA256:pinned';
    await other.close({ keep: true });
    const same = await job.connect(builder, { hostKeyMode: 'strict', pin: 'SHA256:pinned' });
    expect(inner.made).toHaveLength(2);
    expect(same.hostKey).toBe('SHA256:pinned');
  });

  it('a handed-out connection closed twice is released once', async () => {
    const inner = new CountingConnector();
    const job = new JobConnections(inner);
    const r = await job.connect(builder, { hostKeyMode: 'strict' });
    await r.close({ keep: true });
    await r.close(); // a late finally must not close what the next step now holds
    expect(inner.made[0]!.closes).toBe(0);
    expect(r.open).toBe(false);
  });
});
