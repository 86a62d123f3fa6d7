/** The cached, indexed known_hosts lookup finds exactly what a scan finds, and sees the file change. */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KnownHostsFile } from '../../src/ssh/known-hosts';
import { KnownHostsIndex } from '../../src/ssh/known-hosts-index';
import { entriesFor, parseKnownHosts } from '../../src/ssh/known-hosts-parse';

const dir = mkdtempSync(path.join(tmpdir(), 'rekick-kh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = (n: number) => `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, n)]).toString('base64')}`;
function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

const text = [
  '# comment',
  `build-01,10.0.0.1 ${key(1)}`,
  `[build-02]:2222,[10.0.0.2]:2222 ${key(2)}`,
  `${hashed('build-03')} ${key(3)}`,
  `*.lab,!bad.lab ${key(4)}`,
  `@revoked build-01 ${key(5)}`,
  `BUILD-06 ${key(6)}`,
  `build-01 ${key(7)}`,
  'build-01 ssh-ed25519 not-a-key',
  `build-01 ssh-rsa ${key(8).split(' ')[1]}`,
  `build-01 ${key(10)} a comment`,
].join('\n');

describe('known_hosts index', () => {
  const targets = [
    { name: 'build-01', address: '10.0.0.1', port: 22 },
    { name: 'build-02', address: '10.0.0.2', port: 2222 },
    { name: 'build-02', address: '10.0.0.2', port: 22 },
    { name: 'build-03', address: '10.0.0.3', port: 22 },
    { name: 'x.lab', address: '10.0.0.9', port: 22 },
    { name: 'bad.lab', address: '10.0.0.8', port: 22 },
    { name: 'build-06', address: 'build-06', port: 22 },
    { name: 'nobody', address: '10.9.9.9', port: 22 },
  ];
  it('finds the same entries as a full scan, in file order', () => {
    const entries = parseKnownHosts(text);
    const index = new KnownHostsIndex(text);
    for (const t of targets) expect(index.lookup(t), t.name).toEqual(entriesFor(entries, t));
    expect(index.lookup(targets[0]!).map((e) => e.key.at(-1))).toEqual([1, 5, 7, 10]);
  });

  it('after replaces, the index kept in memory finds exactly what a fresh read of the file finds', async () => {
    const file = path.join(dir, 'known_hosts.edited');
    writeFileSync(file, text);
    const kh = new KnownHostsFile(file);
    await kh.lookup(targets[0]!); // cached from here on
    const blob = (n: number) => Buffer.from(key(n).split(' ')[1]!, 'base64');
    const newcomer = { name: 'build-77', address: '10.0.0.77', port: 22 };
    await kh.replace(targets[0]!, blob(20)); // plain lines (one shared with its address), the revoked marker stays
    await kh.replace(targets[3]!, blob(21)); // a hashed line
    await kh.replace(newcomer, blob(22));
    await kh.replace(targets[0]!, blob(23));
    const fresh = new KnownHostsIndex(readFileSync(file, 'utf8'));
    for (const t of [...targets, newcomer]) expect(await kh.lookup(t), t.name).toEqual(fresh.lookup(t));
    expect((await kh.lookup(targets[0]!)).map((e) => [e.marker ?? '', e.key.at(-1)])).toEqual([['@revoked', 5], ['', 23]]);
    expect((await kh.lookup(targets[3]!)).map((e) => e.key.at(-1))).toEqual([21]);
  });

  it('re-reads the file when it changes', async () => {
    const file = path.join(dir, 'known_hosts');
    writeFileSync(file, text);
    const kh = new KnownHostsFile(file);
    expect((await kh.lookup(targets[7]!)).length).toBe(0);
    writeFileSync(file, `${text}\nnobody ${key(9)}\n`);
    expect((await kh.lookup(targets[7]!)).length).toBe(1);
  });
});
