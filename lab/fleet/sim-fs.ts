/** A simulated host's filesystem: a flat map of absolute paths to files and directories, with POSIX-ish errors. */
import path from 'node:path';

export interface SimNode {
  type: 'file' | 'dir';
  content: Buffer;
  mode: number;
  owner: string;
  group: string;
  mtime: number;
}

/** A failed filesystem call, in the words coreutils would use ("No such file or directory"). */
export class SimFsError extends Error {
  constructor(
    readonly errno: 'ENOENT' | 'EEXIST' | 'ENOTDIR' | 'EISDIR' | 'ENOTEMPTY' | 'EINVAL',
    readonly path: string,
  ) {
    super(`${path}: ${SimFsError.describe(errno)}`);
  }

  static describe(errno: SimFsError['errno']): string {
    switch (errno) {
      case 'ENOENT':
        return 'No such file or directory';
      case 'EEXIST':
        return 'File exists';
      case 'ENOTDIR':
        return 'Not a directory';
      case 'EISDIR':
        return 'Is a directory';
      case 'ENOTEMPTY':
        return 'Directory not empty';
      case 'EINVAL':
        return 'Invalid argument';
    }
  }

  /** "No such file or directory" and friends, without the path. */
  get reason(): string {
    return SimFsError.describe(this.errno);
  }
}

const EMPTY = Buffer.alloc(0);

export class SimFs {
  private readonly nodes = new Map<string, SimNode>();

  constructor() {
    this.nodes.set('/', dirNode(0o755));
  }

  /** Absolute, normalized path of `p` seen from `cwd`. */
  static resolve(p: string, cwd = '/'): string {
    const abs = path.posix.resolve(cwd, p);
    return abs.length > 1 && abs.endsWith('/') ? abs.slice(0, -1) : abs;
  }

  get(p: string): SimNode | undefined {
    return this.nodes.get(SimFs.resolve(p));
  }

  exists(p: string): boolean {
    return this.nodes.has(SimFs.resolve(p));
  }

  isFile(p: string): boolean {
    return this.get(p)?.type === 'file';
  }

  isDir(p: string): boolean {
    return this.get(p)?.type === 'dir';
  }

  read(p: string): Buffer {
    const n = this.get(p);
    if (!n) throw new SimFsError('ENOENT', p);
    if (n.type === 'dir') throw new SimFsError('EISDIR', p);
    return n.content;
  }

  readText(p: string): string {
    return this.read(p).toString('utf8');
  }

  /** Creates or replaces a file; its parent directory must exist. Keeps mode and owner of a file it replaces. */
  write(p: string, content: string | Buffer, options: { mode?: number; owner?: string; group?: string; append?: boolean } = {}): SimNode {
    const abs = SimFs.resolve(p);
    this.requireParent(abs);
    const old = this.nodes.get(abs);
    if (old?.type === 'dir') throw new SimFsError('EISDIR', abs);
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    const node: SimNode = {
      type: 'file',
      content: options.append && old ? Buffer.concat([old.content, data]) : data,
      mode: options.mode ?? old?.mode ?? 0o644,
      owner: options.owner ?? old?.owner ?? 'root',
      group: options.group ?? old?.group ?? 'root',
      mtime: Date.now(),
    };
    this.nodes.set(abs, node);
    return node;
  }

  /** mkdir: with `parents`, creates missing parents and accepts an existing directory. */
  mkdir(p: string, options: { parents?: boolean; mode?: number } = {}): void {
    const abs = SimFs.resolve(p);
    const existing = this.nodes.get(abs);
    if (existing) {
      if (existing.type !== 'dir') throw new SimFsError(options.parents ? 'ENOTDIR' : 'EEXIST', abs);
      if (!options.parents) throw new SimFsError('EEXIST', abs);
      return;
    }
    const parent = path.posix.dirname(abs);
    if (options.parents && !this.nodes.has(parent)) this.mkdir(parent, { parents: true });
    this.requireParent(abs);
    this.nodes.set(abs, dirNode(options.mode ?? 0o755));
  }

  /** rm: a directory needs `recursive`; a missing path fails unless `force`. */
  remove(p: string, options: { recursive?: boolean; force?: boolean } = {}): void {
    const abs = SimFs.resolve(p);
    const n = this.nodes.get(abs);
    if (!n) {
      if (options.force) return;
      throw new SimFsError('ENOENT', abs);
    }
    if (abs === '/') throw new SimFsError('EINVAL', abs);
    if (n.type === 'dir') {
      if (!options.recursive) throw new SimFsError('EISDIR', abs);
      for (const child of this.descendants(abs)) this.nodes.delete(child);
    }
    this.nodes.delete(abs);
  }

  /** rmdir: only an empty directory. */
  removeDir(p: string): void {
    const abs = SimFs.resolve(p);
    const n = this.nodes.get(abs);
    if (!n) throw new SimFsError('ENOENT', abs);
    if (n.type !== 'dir') throw new SimFsError('ENOTDIR', abs);
    if (this.descendants(abs).length) throw new SimFsError('ENOTEMPTY', abs);
    this.nodes.delete(abs);
  }

  /** rename(2): replaces a file at the destination atomically; moves a directory with its contents. */
  rename(from: string, to: string): void {
    const src = SimFs.resolve(from);
    const dst = SimFs.resolve(to);
    const n = this.nodes.get(src);
    if (!n) throw new SimFsError('ENOENT', src);
    if (src === dst) return;
    this.requireParent(dst);
    const target = this.nodes.get(dst);
    if (target?.type === 'dir' && n.type !== 'dir') throw new SimFsError('EISDIR', dst);
    if (target && target.type !== 'dir' && n.type === 'dir') throw new SimFsError('ENOTDIR', dst);
    if (target?.type === 'dir' && this.descendants(dst).length) throw new SimFsError('ENOTEMPTY', dst);
    if (n.type === 'dir' && (dst + '/').startsWith(src + '/')) throw new SimFsError('EINVAL', dst);
    const moved = n.type === 'dir' ? this.descendants(src) : [];
    this.nodes.delete(src);
    this.nodes.set(dst, n);
    for (const child of moved) {
      const node = this.nodes.get(child)!;
      this.nodes.delete(child);
      this.nodes.set(dst + child.slice(src.length), node);
    }
  }

  chmod(p: string, mode: number): void {
    const n = this.get(p);
    if (!n) throw new SimFsError('ENOENT', p);
    n.mode = mode & 0o7777;
  }

  chown(p: string, owner?: string, group?: string): void {
    const n = this.get(p);
    if (!n) throw new SimFsError('ENOENT', p);
    if (owner) n.owner = owner;
    if (group) n.group = group;
  }

  /** Names directly inside a directory, sorted. */
  list(p: string): string[] {
    const abs = SimFs.resolve(p);
    const n = this.nodes.get(abs);
    if (!n) throw new SimFsError('ENOENT', abs);
    if (n.type !== 'dir') throw new SimFsError('ENOTDIR', abs);
    const prefix = abs === '/' ? '/' : abs + '/';
    const names: string[] = [];
    for (const key of this.nodes.keys()) {
      if (key !== abs && key.startsWith(prefix) && !key.slice(prefix.length).includes('/')) names.push(key.slice(prefix.length));
    }
    return names.sort();
  }

  /** Every path, sorted (tests compare filesystems with it). */
  paths(): string[] {
    return [...this.nodes.keys()].sort();
  }

  /** Throws unless the parent of `abs` is an existing directory. */
  private requireParent(abs: string): void {
    const parent = path.posix.dirname(abs);
    const n = this.nodes.get(parent);
    if (!n) throw new SimFsError('ENOENT', abs);
    if (n.type !== 'dir') throw new SimFsError('ENOTDIR', abs);
  }

  private descendants(abs: string): string[] {
    const prefix = abs === '/' ? '/' : abs + '/';
    return [...this.nodes.keys()].filter((k) => k !== abs && k.startsWith(prefix));
  }
}

function dirNode(mode: number): SimNode {
  return { type: 'dir', content: EMPTY, mode, owner: 'root', group: 'root', mtime: Date.now() };
}
