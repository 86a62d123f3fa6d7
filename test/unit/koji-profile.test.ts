import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KojiProfileError, parseIni, readKojiProfile } from '../../src/koji/profile';

let dir: string;
let home: string;
let sources: string[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rekick-koji-profile-'));
  home = path.join(dir, 'home');
  await mkdir(path.join(dir, 'etc/koji.conf.d'), { recursive: true });
  await mkdir(path.join(home, '.koji'), { recursive: true });
  await writeFile(
    path.join(dir, 'etc/koji.conf'),
    '[koji]\n; the system default\nserver = https://koji.example.org/kojihub\nweburl = https://koji.example.org/koji\ncert = ~/.koji/system.pem\nauthtype = ssl\n\n[stg]\nserver = https://koji.stg.example.org/kojihub\n',
  );
  await writeFile(path.join(dir, 'etc/koji.conf.d/10-lab.conf'), '[lab]\nserver: https://127.0.0.1:8443/kojihub\nserverca = /etc/pki/lab-ca.pem\n');
  await writeFile(path.join(dir, 'etc/koji.conf.d/20-koji.conf'), '[koji]\nserver = https://overridden-by-etc-koji-conf/kojihub\nserverca = /etc/pki/koji-ca.pem\n');
  await writeFile(path.join(dir, 'etc/koji.conf.d/ignored.txt'), 'not ini at all');
  await writeFile(path.join(home, '.koji/config'), '[koji]\ncert = ~/.koji/rekick.pem\n');
  await writeFile(path.join(home, '.koji/serverca.crt'), 'x');
  sources = [path.join(dir, 'etc/koji.conf.d'), path.join(dir, 'etc/koji.conf'), path.join(home, '.koji/config.d'), path.join(home, '.koji/config')];
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('koji CLI profiles', () => {
  it("reads koji's files in koji's order, later ones winning, with ~ expanded", () => {
    const p = readKojiProfile('koji', { sources, home });
    expect(p).toMatchObject({
      server: 'https://koji.example.org/kojihub', // /etc/koji.conf is read after /etc/koji.conf.d
      serverca: '/etc/pki/koji-ca.pem',
      cert: path.join(home, '.koji/rekick.pem'), // ~/.koji/config wins
      authtype: 'ssl',
      weburl: 'https://koji.example.org/koji',
    });
    expect(p.files).not.toContain(path.join(dir, 'etc/koji.conf.d/ignored.txt'));
  });

  it("falls back to ~/.koji/serverca.crt like koji when serverca is not set", () => {
    const p = readKojiProfile('stg', { sources, home });
    expect(p.server).toBe('https://koji.stg.example.org/kojihub');
    expect(p.serverca).toBe(path.join(home, '.koji/serverca.crt'));
    expect(p.cert).toBeUndefined();
  });

  it('accepts key: value and names the profiles it found when one is missing', () => {
    expect(readKojiProfile('lab', { sources, home }).server).toBe('https://127.0.0.1:8443/kojihub');
    expect(() => readKojiProfile('prod', { sources, home })).toThrow(KojiProfileError);
    expect(() => readKojiProfile('prod', { sources, home })).toThrow(/no koji profile "prod".*profiles found: lab, koji, stg/);
  });

  it('reports a line it cannot read with its file and line number', () => {
    expect(() => parseIni('[a]\nx = 1\nnonsense\n', new Map(), 'koji.conf')).toThrow(/koji.conf:3/);
    expect(parseIni('[a]\nlong = one\n  two\n').get('a')?.get('long')).toBe('one\ntwo');
  });
});
