/** An in-memory KojiClient for unit tests: hosts, open tasks, and a call log. */
import type { KojiClient, KojiHost, KojiTask } from '../../src/koji/types';

export class FakeKoji implements KojiClient {
  hosts = new Map<string, KojiHost>();
  tasks: KojiTask[] = [];
  calls: string[] = [];
  /** Throw this from the next call of the named method. */
  failNext = new Map<string, Error>();

  addHost(name: string, arches = 'x86_64', enabled = true, comment: string | null = null): KojiHost {
    const h: KojiHost = { id: this.hosts.size + 1, name, arches, enabled, ready: true, comment };
    this.hosts.set(name, h);
    return h;
  }

  private call(method: string, ...args: unknown[]): void {
    this.calls.push(`${method}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
    const err = this.failNext.get(method);
    if (err) {
      this.failNext.delete(method);
      throw err;
    }
  }

  async getHost(name: string) {
    this.call('getHost', name);
    const h = this.hosts.get(name);
    return h ? { ...h } : null;
  }
  async listHosts(opts: { enabled?: boolean; arches?: string[] } = {}) {
    this.call('listHosts', opts);
    return [...this.hosts.values()].filter(
      (h) => (opts.enabled === undefined || h.enabled === opts.enabled) && (!opts.arches || opts.arches.some((a) => h.arches.split(' ').includes(a))),
    );
  }
  /** With a comment, as the real client sends it: the state change and editHost in one multiCall. */
  async disableHost(name: string, opts: { comment?: string } = {}) {
    this.call('disableHost', name);
    this.hosts.get(name)!.enabled = false;
    if (opts.comment !== undefined) await this.setHostComment(name, opts.comment);
  }
  async enableHost(name: string, opts: { comment?: string } = {}) {
    this.call('enableHost', name);
    this.hosts.get(name)!.enabled = true;
    if (opts.comment !== undefined) await this.setHostComment(name, opts.comment);
  }
  async setHostComment(name: string, comment: string) {
    this.call('editHost', name, comment);
    this.hosts.get(name)!.comment = comment;
  }
  async listOpenTasks(hostId: number) {
    this.call('listTasks', hostId);
    return this.tasks.filter((t) => t.host_id === hostId && (t.state === 1 || t.state === 4));
  }
  async freeTask(taskId: number) {
    this.call('freeTask', taskId);
    const t = this.tasks.find((x) => x.id === taskId);
    if (t) {
      t.state = 0;
      t.host_id = null;
    }
  }
  async close() {
    this.call('logout');
  }
}
