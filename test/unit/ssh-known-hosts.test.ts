/** known_hosts parsing, lookup and replacement, checked against OpenSSH's own ssh-keygen. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { judgeHostKey, preferredHostKeyAlgorithms } from '../../src/ssh/host-key-check';
import { KnownHostsFile } from '../../src/ssh/known-hosts';
import { hostFieldMatches } from '../../src/ssh/known-hosts-match';
import { entriesFor, fingerprint, hostField, keyTypeOf, lookupNames, parseKnownHosts } from '../../src/ssh/known-hosts-parse';

const dir = mkdtempSync(path.join(tmpdir(), 'rekick-kh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keygen(type: string, name: string): { line: string; blob: Buffer; file: string } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', file]);
  const [t, b64] = readFileSync(`${file}.pub`, 'utf8').trim().split(' ') as [string, string];
  return { line: `${t} ${b64}`, blob: Buffer.from(b64, 'base64'), file };
}

const ed = keygen('ed25519', 'ed');
const ed2 = keygen('ed25519', 'ed2');
const rsa = keygen('rsa', 'rsa');
const ecdsa = keygen('ecdsa', 'ecdsa');

describe('fingerprint', () => {
  it.each([
    ['ed25519', ed],
    ['rsa', rsa],
    ['ecdsa', ecdsa],
  ])('matches ssh-keygen -lf for %s', (_, k) => {
    const printed = execFileSync('ssh-keygen', ['-lf', `${k.file}.pub`], { encoding: 'utf8' }).split(' ')[1];
    expect(fingerprint(k.blob)).toBe(printed);
    expect(fingerprint(k.blob)).not.toContain('=');
  });

  it('reads the key type from the blob', () => {
    expect(keyTypeOf(ed.blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(rsa.blob)).toBe('ssh-rsa');
    expect(() => keyTypeOf(Buffer.from('junk'))).toThrow();
  });
});

describe('lookup', () => {
  const target = { name: 'BuildArm-01', address: '10.5.125.1', port: 22 };

  it('names a host by name and address, [x]:port when not 22', () => {
    expect(lookupNames(target)).toEqual(['buildarm-01', '10.5.125.1']);
    expect(lookupNames({ ...target, port: 2222 })).toEqual(['[buildarm-01]:2222', '[10.5.125.1]:2222']);
    expect(hostField({ ...target, port: 2222 })).toBe('[buildarm-01]:2222,[10.5.125.1]:2222');
    expect(lookupNames({ name: 'h', address: 'h', port: 22 })).toEqual(['h']);
  });

  it('matches plain, wildcard, negated and hashed entries as OpenSSH does', () => {
    expect(hostFieldMatches('buildarm-01,10.5.125.1', 'buildarm-01')).toBe(true);
    expect(hostFieldMatches('buildarm-*', 'buildarm-01')).toBe(true);
    expect(hostFieldMatches('buildarm-0?', 'buildarm-01')).toBe(true);
    expect(hostFieldMatches('buildarm-*,!buildarm-01', 'buildarm-01')).toBe(false);
    expect(hostFieldMatches('[buildarm-01]:2222', 'buildarm-01')).toBe(false);
    const file = path.join(dir, 'hashed');
    writeFileSync(file, `buildarm-01 ${ed.line}\n[10.5.125.1]:2222 ${ed.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const entries = parseKnownHosts(readFileSync(file, 'utf8'));
    expect(entries.every((e) => e.hosts.startsWith('|1|'))).toBe(true);
    expect(entriesFor(entries, target)).toHaveLength(1);
    expect(entriesFor(entries, { ...target, port: 2222 })).toHaveLength(1);
    expect(entriesFor(entries, { name: 'other', address: '10.0.0.9', port: 22 })).toHaveLength(0);
  });

  it('keeps markers and skips comments and garbage', () => {
    const text = `# comment\n\n@revoked buildarm-01 ${ed2.line}\n@cert-authority *.example.org ${rsa.line}\nnot a key line\nbuildarm-01 ${ed.line} a comment\n`;
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => e.marker)).toEqual(['@revoked', '@cert-authority', undefined]);
    expect(entries[2]!.comment).toBe('a comment');
  });
});

describe('judgeHostKey', () => {
  const entries = parseKnownHosts(`buildarm-01 ${ed.line}\nbuildarm-01 ${rsa.line}\n@revoked buildarm-01 ${ecdsa.line}\n`);
  it('known, changed (naming the same-type key), new, revoked', () => {
    expect(judgeHostKey(entries, ed.blob, 'strict').kind).toBe('known');
    expect(judgeHostKey(entries, rsa.blob, 'strict').kind).toBe('known');
    expect(judgeHostKey(entries, ed2.blob, 'strict')).toEqual({ kind: 'changed', fingerprint: fingerprint(ed2.blob), expected: [fingerprint(ed.blob)], accept: false });
    expect(judgeHostKey(entries, ed2.blob, 'accept-changed')).toMatchObject({ kind: 'changed', accept: true });
    expect(judgeHostKey([], ed.blob, 'strict')).toEqual({ kind: 'new', fingerprint: fingerprint(ed.blob), accept: false });
    expect(judgeHostKey(entries, ecdsa.blob, 'accept-changed').kind).toBe('revoked');
  });
  it('a pin: exactly that key, whatever known_hosts and the mode say; another is refused even under accept-changed; revoked stays revoked', () => {
    const pin = fingerprint(ed2.blob);
    expect(judgeHostKey(entries, ed2.blob, 'strict', pin)).toEqual({ kind: 'known', fingerprint: pin });
    expect(judgeHostKey(entries, ed.blob, 'strict', pin)).toEqual({ kind: 'not-pinned', fingerprint: fingerprint(ed.blob), pinned: pin });
    expect(judgeHostKey(entries, ed.blob, 'accept-changed', pin)).toMatchObject({ kind: 'not-pinned' });
    expect(judgeHostKey([], ed.blob, 'accept-changed', pin)).toMatchObject({ kind: 'not-pinned' });
    expect(judgeHostKey(entries, ecdsa.blob, 'strict', fingerprint(ecdsa.blob)).kind).toBe('revoked');
  });

  it('with a pin, the pinned key’s type first (when known_hosts has it)', () => {
    const both = parseKnownHosts(`h ${ed.line}\nh ${rsa.line}\n`);
    expect(preferredHostKeyAlgorithms(both)[0]).toBe('ssh-ed25519');
    expect(preferredHostKeyAlgorithms(both, fingerprint(rsa.blob)).slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  });

  it('prefers the host key algorithms known_hosts has for the host', () => {
    expect(preferredHostKeyAlgorithms(parseKnownHosts(`h ${rsa.line}\n`)).slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(preferredHostKeyAlgorithms([])[0]).toBe('ssh-ed25519');
  });
});

describe('KnownHostsFile.replace', () => {
  it('replaces the host’s keys (plain patterns and hashed lines), keeps other hosts, markers, comments and the file mode', async () => {
    const file = path.join(dir, 'kh-replace');
    const hashedOnly = path.join(dir, 'kh-hashed-part');
    writeFileSync(hashedOnly, `10.5.125.1 ${rsa.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', hashedOnly], { stdio: 'ignore' });
    const hashedLine = readFileSync(hashedOnly, 'utf8').split('\n').find((l) => l.startsWith('|1|'))!;
    writeFileSync(
      file,
      [
        '# rekick known hosts',
        `buildarm-01,buildarm-02,10.5.125.1 ${ed.line}`,
        hashedLine,
        `@revoked buildarm-01 ${ecdsa.line}`,
        `*.example.org ${ed.line}`,
        '',
      ].join('\n'),
    );
    chmodSync(file, 0o600);
    const kh = new KnownHostsFile(file);
    const target = { name: 'buildarm-01', address: '10.5.125.1', port: 22 };
    const replaced = await kh.replace(target, ed2.blob);
    expect(replaced.sort()).toEqual([fingerprint(ed.blob), fingerprint(rsa.blob)].sort());
    expect(readFileSync(file, 'utf8')).toBe(
      [
        '# rekick known hosts',
        `buildarm-02 ${ed.line}`,
        `@revoked buildarm-01 ${ecdsa.line}`,
        `*.example.org ${ed.line}`,
        `buildarm-01,10.5.125.1 ${ed2.line}`,
        '',
      ].join('\n'),
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // OpenSSH reads it back the same way
    expect(execFileSync('ssh-keygen', ['-F', 'buildarm-01', '-f', file], { encoding: 'utf8' })).toContain(ed2.line);
    expect(execFileSync('ssh-keygen', ['-F', 'buildarm-02', '-f', file], { encoding: 'utf8' })).toContain(ed.line);
    expect((await kh.lookup(target)).filter((e) => !e.marker).map((e) => fingerprint(e.key))).toEqual([fingerprint(ed2.blob)]);
  });

  it('creates a missing file and serializes concurrent writers', async () => {
    const file = path.join(dir, 'sub', 'kh-new');
    const kh = new KnownHostsFile(file);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => kh.replace({ name: `h${i}`, address: `10.0.0.${i}`, port: i % 2 ? 22 : 2222 }, ed.blob)),
    );
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines).toContain(`[h0]:2222,[10.0.0.0]:2222 ${ed.line}`);
    expect(lines).toContain(`h1,10.0.0.1 ${ed.line}`);
  });

  it('replacements asked for together (or during a write) share one write, each told what it replaced', async () => {
    const file = path.join(dir, 'kh-batched');
    writeFileSync(file, Array.from({ length: 20 }, (_, i) => `h${i},10.1.0.${i} ${ed.line}`).join('\n') + '\n');
    const kh = new KnownHostsFile(file);
    const writes: number[] = [];
    const proto = KnownHostsFile.prototype as unknown as { writeAtomic(content: Buffer[], mode: number): Promise<string> };
    const writeAtomic = proto.writeAtomic;
    proto.writeAtomic = function (this: KnownHostsFile, content: Buffer[], mode: number) {
      const text = Buffer.concat(content).toString();
      writes.push(text.split('\n').filter((l) => l.includes(ed2.line.split(' ')[1]!)).length);
      return writeAtomic.call(this, content, mode);
    };
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => kh.replace({ name: `h${i}`, address: `10.1.0.${i}`, port: 22 }, ed2.blob)));
      // Asked for in one turn: one write carries all 20 (one at a time, that was 20 writes of the whole file).
      expect(writes).toEqual([20]);
      for (const r of results) expect(r).toEqual([fingerprint(ed.blob)]);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(20);
      expect(lines.every((l) => l.endsWith(ed2.line))).toBe(true);
      // The same host twice in one batch: the later key wins, and it replaced the earlier one.
      const [a, b] = await Promise.all([kh.replace({ name: 'h0', address: '10.1.0.0', port: 22 }, ed.blob), kh.replace({ name: 'h0', address: '10.1.0.0', port: 22 }, ed2.blob)]);
      expect(a).toEqual([fingerprint(ed2.blob)]);
      expect(b).toEqual([fingerprint(ed.blob)]);
      expect(readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('h0,'))).toEqual([`h0,10.1.0.0 ${ed2.line}`]);
    } finally {
      proto.writeAtomic = writeAtomic;
    }
  });
});
