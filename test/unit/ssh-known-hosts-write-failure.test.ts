/** A known_hosts write that fails (a full disk) leaves the file as it was and no temp file beside it. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { KnownHostsFile } from '../../src/ssh/known-hosts';

const failWrites = { on: false };

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof FsPromises>();
  return {
    ...fs,
    open: async (...args: Parameters<typeof fs.open>) => {
      const fh = await fs.open(...args);
      if (failWrites.on) {
        fh.writeFile = () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
      }
      return fh;
    },
  };
});

const dir = mkdtempSync(path.join(tmpdir(), 'rekick-kh-fail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const blob = (n: number) => Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, n)]);

describe('known_hosts write failure', () => {
  it('rejects with the cause, keeps the file as it was, and removes its temp file', async () => {
    const file = path.join(dir, 'known_hosts');
    const before = `build-01,10.0.0.1 ssh-ed25519 ${blob(1).toString('base64')}\n`;
    writeFileSync(file, before);
    const kh = new KnownHostsFile(file);
    const target = { name: 'build-01', address: '10.0.0.1', port: 22 };
    failWrites.on = true;
    await expect(kh.replace(target, blob(2))).rejects.toThrow(/ENOSPC/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['known_hosts']);
    // Still the old key for lookups; and once the disk has room, the next replace works.
    expect((await kh.lookup(target)).map((e) => e.key.at(-1))).toEqual([1]);
    failWrites.on = false;
    await kh.replace(target, blob(2));
    expect((await kh.lookup(target)).map((e) => e.key.at(-1))).toEqual([2]);
    expect(readdirSync(dir)).toEqual(['known_hosts']);
  });
});
