/**
 * The simulated filesystem behaves like rename(2)/mkdir(2)/unlink(2) where rekick relies on it, and the two
 * machine baselines differ exactly in rekick's configuration.
 */
import { describe, expect, it } from 'vitest';
import { SimFs, SimFsError } from '../../lab/fleet/sim-fs';
import { FRESH_HOSTNAME, KOJID_CONF, SimMachine } from '../../lab/fleet/sim-machine';

function fsError(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof SimFsError) return err.errno;
    throw err;
  }
  return 'none';
}

describe('SimFs', () => {
  it('rename replaces a file atomically and keeps the moved file (mode and all)', () => {
    const fs = new SimFs();
    fs.mkdir('/etc');
    fs.write('/etc/a.tmp', 'new', { mode: 0o600 });
    fs.write('/etc/a', 'old');
    fs.rename('/etc/a.tmp', '/etc/a');
    expect(fs.get('/etc/a')).toMatchObject({ content: Buffer.from('new'), mode: 0o600 });
    expect(fs.exists('/etc/a.tmp')).toBe(false);
  });

  it('rename moves a directory with its contents; not into itself, not over a non-empty directory', () => {
    const fs = new SimFs();
    fs.mkdir('/a/b', { parents: true });
    fs.write('/a/b/f', 'x');
    fs.rename('/a', '/z');
    expect(fs.paths()).toEqual(['/', '/z', '/z/b', '/z/b/f']);
    expect(fsError(() => fs.rename('/z', '/z/b/in'))).toBe('EINVAL');
    fs.mkdir('/y');
    fs.write('/y/g', 'y');
    expect(fsError(() => fs.rename('/z', '/y'))).toBe('ENOTEMPTY');
  });

  it('mkdir and write need an existing parent directory; mkdir -p accepts an existing one but not a file', () => {
    const fs = new SimFs();
    expect(fsError(() => fs.write('/no/f', 'x'))).toBe('ENOENT');
    expect(fsError(() => fs.mkdir('/no/dir'))).toBe('ENOENT');
    fs.mkdir('/d/e', { parents: true });
    fs.mkdir('/d/e', { parents: true });
    expect(fsError(() => fs.mkdir('/d/e'))).toBe('EEXIST');
    fs.write('/d/file', '');
    expect(fsError(() => fs.mkdir('/d/file', { parents: true }))).toBe('ENOTDIR');
    expect(fsError(() => fs.write('/d/file/x', ''))).toBe('ENOTDIR');
  });

  it('remove: directories only with recursive, missing paths only with force, never /', () => {
    const fs = new SimFs();
    fs.mkdir('/d/e', { parents: true });
    expect(fsError(() => fs.remove('/d'))).toBe('EISDIR');
    expect(fsError(() => fs.remove('/nope'))).toBe('ENOENT');
    fs.remove('/nope', { force: true });
    fs.remove('/d', { recursive: true });
    expect(fs.paths()).toEqual(['/']);
    expect(fsError(() => fs.remove('/', { recursive: true, force: true }))).toBe('EINVAL');
  });
});

describe('machine baselines', () => {
  it('a configured builder runs kojid with its config; a fresh install has neither, and a new machine-id', () => {
    const configured = SimMachine.configured('builder', 'aarch64', 'buildarm-01');
    const fresh = SimMachine.fresh('builder', 'aarch64');
    expect(configured.fs.isFile(KOJID_CONF)).toBe(true);
    expect([...configured.active].sort()).toEqual(['chronyd', 'kojid', 'sshd']);
    expect(configured.hostname).toBe('buildarm-01');
    expect(fresh.fs.isFile(KOJID_CONF)).toBe(false);
    expect([...fresh.active].sort()).toEqual(['chronyd', 'sshd']);
    expect(fresh.hostname).toBe(FRESH_HOSTNAME);
    expect(fresh.fs.readText('/etc/machine-id')).not.toBe(configured.fs.readText('/etc/machine-id'));
    expect(fresh.grubEntries).toHaveLength(1);
  });

  it('boot starts exactly the enabled units that can start', () => {
    const m = SimMachine.fresh('builder', 'x86_64');
    m.enabled.add('kojid');
    m.boot();
    expect(m.active.has('kojid')).toBe(false);
    m.fs.write(KOJID_CONF, '[kojid]\n');
    m.boot();
    expect(m.active.has('kojid')).toBe(true);
    m.enabled.delete('chronyd');
    m.boot();
    expect(m.active.has('chronyd')).toBe(false);
  });

  it('a virthost runs libvirtd and has no kojid', () => {
    const m = SimMachine.configured('virthost', 'x86_64', 'bvmhost-01');
    expect(m.active.has('libvirtd')).toBe(true);
    expect(m.units.has('kojid')).toBe(false);
  });
});
