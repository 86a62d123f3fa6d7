/**
 * The SFTP subsystem of a simulated host, on its SimFs: open/read/write/close, stat/lstat/fstat, setstat/fsetstat
 * (mode, owner), mkdir/rmdir, remove, rename, realpath, opendir/readdir, and posix-rename@openssh.com. Plain
 * RENAME refuses an existing target, as OpenSSH's sftp-server does (SFTP v3).
 */
import type { Attributes, InputAttributes, SFTPWrapper } from 'ssh2';
import ssh2 from 'ssh2';

const { utils } = ssh2; // ssh2 is CommonJS: named exports are not visible to Node's ESM loader
import { SimFs, SimFsError, type SimNode } from './sim-fs';

const { OPEN_MODE, STATUS_CODE } = utils.sftp;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

type Handle = { kind: 'file'; path: string; node: SimNode; append: boolean } | { kind: 'dir'; path: string; names: string[] | null };

function uidOf(name: string): number {
  return name === 'root' ? 0 : 1000;
}

function nameOf(uid: number): string {
  return uid === 0 ? 'root' : String(uid);
}

function attrsOf(node: SimNode): Attributes {
  const t = Math.floor(node.mtime / 1000);
  return {
    mode: (node.type === 'dir' ? S_IFDIR : S_IFREG) | node.mode,
    uid: uidOf(node.owner),
    gid: uidOf(node.group),
    size: node.content.length,
    atime: t,
    mtime: t,
  };
}

function statusFor(err: unknown): number {
  if (!(err instanceof SimFsError)) throw err;
  return err.errno === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : STATUS_CODE.FAILURE;
}

/** Serves one SFTP session; `record` is told each operation that changes something. */
export function serveSftp(sftp: SFTPWrapper, fs: SimFs, home: string, record: (op: string) => void): void {
  const handles = new Map<number, Handle>();
  let nextHandle = 1;
  const resolve = (p: string) => SimFs.resolve(p || '.', home);
  const newHandle = (h: Handle): Buffer => {
    const id = nextHandle++;
    handles.set(id, h);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(id);
    return buf;
  };
  const handleOf = (buf: Buffer): Handle | undefined => (buf.length === 4 ? handles.get(buf.readUInt32BE(0)) : undefined);
  const setAttrs = (p: string, attrs: InputAttributes) => {
    if (attrs.mode !== undefined) fs.chmod(p, Number(attrs.mode) & 0o7777);
    if (attrs.uid !== undefined || attrs.gid !== undefined) fs.chown(p, attrs.uid !== undefined ? nameOf(attrs.uid) : undefined, attrs.gid !== undefined ? nameOf(attrs.gid) : undefined);
  };

  sftp.on('OPEN', (reqid, filename, flags, attrs) => {
    const p = resolve(filename);
    try {
      let node = fs.get(p);
      if (node?.type === 'dir') return sftp.status(reqid, STATUS_CODE.FAILURE, 'Is a directory');
      if (node && flags & OPEN_MODE.CREAT && flags & OPEN_MODE.EXCL) return sftp.status(reqid, STATUS_CODE.FAILURE, 'File exists');
      if (!node) {
        if (!(flags & OPEN_MODE.CREAT)) return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
        const mode = attrs.mode !== undefined ? Number(attrs.mode) & 0o777 & ~0o022 : 0o644;
        node = fs.write(p, '', { mode });
        record(`sftp create ${p}`);
      } else if (flags & OPEN_MODE.TRUNC) {
        node.content = Buffer.alloc(0);
        node.mtime = Date.now();
      }
      sftp.handle(reqid, newHandle({ kind: 'file', path: p, node, append: !!(flags & OPEN_MODE.APPEND) }));
    } catch (err) {
      sftp.status(reqid, statusFor(err));
    }
  });

  sftp.on('WRITE', (reqid, handle, offset, data) => {
    const h = handleOf(handle);
    if (h?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'Bad handle');
    const node = h.node;
    const at = h.append ? node.content.length : offset;
    const end = at + data.length;
    const next = Buffer.alloc(Math.max(end, node.content.length));
    node.content.copy(next);
    data.copy(next, at);
    node.content = next;
    node.mtime = Date.now();
    sftp.status(reqid, STATUS_CODE.OK);
  });

  sftp.on('READ', (reqid, handle, offset, length) => {
    const h = handleOf(handle);
    if (h?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'Bad handle');
    if (offset >= h.node.content.length) return sftp.status(reqid, STATUS_CODE.EOF);
    sftp.data(reqid, h.node.content.subarray(offset, offset + length));
  });

  sftp.on('CLOSE', (reqid, handle) => {
    const h = handleOf(handle);
    if (!h) return sftp.status(reqid, STATUS_CODE.FAILURE, 'Bad handle');
    handles.delete(handle.readUInt32BE(0));
    if (h.kind === 'file') record(`sftp write ${h.path} (${h.node.content.length} bytes)`);
    sftp.status(reqid, STATUS_CODE.OK);
  });

  sftp.on('FSTAT', (reqid, handle) => {
    const h = handleOf(handle);
    if (h?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'Bad handle');
    sftp.attrs(reqid, attrsOf(h.node));
  });

  const stat = (reqid: number, p: string) => {
    const node = fs.get(resolve(p));
    if (!node) return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
    sftp.attrs(reqid, attrsOf(node));
  };
  sftp.on('STAT', stat);
  sftp.on('LSTAT', stat);

  sftp.on('SETSTAT', (reqid, p, attrs) => {
    try {
      setAttrs(resolve(p), attrs);
      record(`sftp setstat ${resolve(p)}${attrs.mode !== undefined ? ` mode ${(Number(attrs.mode) & 0o7777).toString(8)}` : ''}`);
      sftp.status(reqid, STATUS_CODE.OK);
    } catch (err) {
      sftp.status(reqid, statusFor(err));
    }
  });

  sftp.on('FSETSTAT', (reqid, handle, attrs) => {
    const h = handleOf(handle);
    if (h?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'Bad handle');
    if (attrs.mode !== undefined) h.node.mode = Number(attrs.mode) & 0o7777;
    if (attrs.uid !== undefined) h.node.owner = nameOf(attrs.uid);
    if (attrs.gid !== undefined) h.node.group = nameOf(attrs.gid);
    record(`sftp fsetstat ${h.path}${attrs.mode !== undefined ? ` mode ${(Number(attrs.mode) & 0o7777).toString(8)}` : ''}`);
    sftp.status(reqid, STATUS_CODE.OK);
  });

  sftp.on('MKDIR', (reqid, p, attrs) => {
    try {
      fs.mkdir(resolve(p), { mode: attrs.mode !== undefined ? Number(attrs.mode) & 0o7777 : 0o755 });
      record(`sftp mkdir ${resolve(p)}`);
      sftp.status(reqid, STATUS_CODE.OK);
    } catch (err) {
      sftp.status(reqid, statusFor(err));
    }
  });

  sftp.on('RMDIR', (reqid, p) => {
    try {
      fs.removeDir(resolve(p));
      record(`sftp rmdir ${resolve(p)}`);
      sftp.status(reqid, STATUS_CODE.OK);
    } catch (err) {
      sftp.status(reqid, statusFor(err));
    }
  });

  sftp.on('REMOVE', (reqid, p) => {
    const abs = resolve(p);
    if (fs.isDir(abs)) return sftp.status(reqid, STATUS_CODE.FAILURE, 'Is a directory');
    try {
      fs.remove(abs);
      record(`sftp remove ${abs}`);
      sftp.status(reqid, STATUS_CODE.OK);
    } catch (err) {
      sftp.status(reqid, statusFor(err));
    }
  });

  const rename = (reqid: number, from: string, to: string, overwrite: boolean) => {
    const src = resolve(from);
    const dst = resolve(to);
    if (!overwrite && fs.exists(dst)) return sftp.status(reqid, STATUS_CODE.FAILURE, 'Target exists (use posix-rename or remove it first)');
    try {
      fs.rename(src, dst);
      record(`sftp rename ${src} ${dst}`);
      sftp.status(reqid, STATUS_CODE.OK);
    } catch (err) {
      sftp.status(reqid, statusFor(err));
    }
  };
  sftp.on('RENAME', (reqid, from, to) => rename(reqid, from, to, false));

  sftp.on('EXTENDED', (reqid, name, data) => {
    if (name !== 'posix-rename@openssh.com' || !data) return sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED);
    const strings: string[] = [];
    let at = 0;
    while (at + 4 <= data.length && strings.length < 2) {
      const len = data.readUInt32BE(at);
      strings.push(data.subarray(at + 4, at + 4 + len).toString('utf8'));
      at += 4 + len;
    }
    if (strings.length !== 2) return sftp.status(reqid, STATUS_CODE.BAD_MESSAGE);
    rename(reqid, strings[0]!, strings[1]!, true);
  });

  sftp.on('REALPATH', (reqid, p) => {
    const abs = resolve(p);
    sftp.name(reqid, [{ filename: abs, longname: abs, attrs: fs.get(abs) ? attrsOf(fs.get(abs)!) : ({} as Attributes) }]);
  });

  sftp.on('OPENDIR', (reqid, p) => {
    const abs = resolve(p);
    if (!fs.isDir(abs)) return sftp.status(reqid, fs.exists(abs) ? STATUS_CODE.FAILURE : STATUS_CODE.NO_SUCH_FILE);
    sftp.handle(reqid, newHandle({ kind: 'dir', path: abs, names: fs.list(abs) }));
  });

  sftp.on('READDIR', (reqid, handle) => {
    const h = handleOf(handle);
    if (h?.kind !== 'dir') return sftp.status(reqid, STATUS_CODE.FAILURE, 'Bad handle');
    if (!h.names) return sftp.status(reqid, STATUS_CODE.EOF);
    const entries = h.names.map((n) => {
      const node = fs.get(SimFs.resolve(n, h.path))!;
      return { filename: n, longname: `${node.type === 'dir' ? 'd' : '-'}rw-r--r-- 1 ${node.owner} ${node.group} ${node.content.length} ${n}`, attrs: attrsOf(node) };
    });
    h.names = null;
    if (!entries.length) return sftp.status(reqid, STATUS_CODE.EOF);
    sftp.name(reqid, entries);
  });
}
