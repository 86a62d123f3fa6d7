import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load';
import { parseDuration } from '../../src/config/duration';
import { problemsOf } from '../support/config-problems';

const dir = mkdtempSync(path.join(tmpdir(), 'rekick-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { REKICK_IRC_PASSWORD: 'pw', SLACK_SIGNING_SECRET: 'sig', SLACK_BOT_TOKEN: 'xoxb-1' };

function exampleWithFiles(): string {
  const file = path.join(dir, 'rekick.yaml');
  copyFileSync(path.resolve('rekick.example.yaml'), file);
  mkdirSync(path.join(dir, 'pki/builders'), { recursive: true });
  mkdirSync(path.join(dir, 'templates'), { recursive: true });
  for (const f of ['pki/rekick-admin.pem', 'pki/koji-ca.pem', 'pki/id_ed25519', 'templates/kojid.conf', 'pki/builders/buildarm-01.pem', 'pki/builders/buildvm-x86-01.pem']) {
    writeFileSync(path.join(dir, f), 'x');
  }
  return file;
}

describe('config', () => {
  it('the contract example loads unchanged, with env and relative paths resolved', () => {
    const c = loadConfig(exampleWithFiles(), { env });
    expect(c.irc?.sasl?.password).toBe('pw');
    expect(c.slack?.token).toBe('xoxb-1');
    expect(c.koji.cert).toBe(path.join(dir, 'pki/rekick-admin.pem'));
    expect(c.store).toBe(path.join(dir, 'var/rekick.json'));
    expect(c.timeouts).toEqual({ drain: 6 * 3600_000, sshReturn: 3600_000, step: 20 * 60_000 });
    expect(c.rolling).toMatchObject({ fraction: 0.1, failureBudget: 2 });
    expect(c.postinstall.files[1]!.mode).toBe(0o600);
    expect(c.hosts.map((h) => h.kind)).toEqual(['baremetal', 'virt', 'virthost']);
  });

  it('names a missing environment variable, once', () => {
    const problems = problemsOf(() => loadConfig(exampleWithFiles(), { env: { ...env, SLACK_BOT_TOKEN: undefined } }));
    expect(problems).toEqual(['slack.token: environment variable SLACK_BOT_TOKEN is not set']);
  });

  it('reports every problem at once, each with its key path and the bad value', () => {
    const yaml = `
koji: { server: "not a url", cert: /x }
ssh: { key: /k, knownHosts: /kh, hostKeyPolicy: trusting }
installer: { kernel: k, initrd: i, kickstart: ks }
timeouts: { drain: 6 hours }
rolling: { fraction: 2 }
hosts:
  - { name: a, kind: virt }
  - { name: b, kind: baremetal, colour: red }
  - { name: "bad name!", kind: baremetal }
`;
    const problems = problemsOf(() => parseConfig(yaml, { baseDir: dir, checkFiles: false }));
    const text = problems.join('\n');
    expect(text).toMatch(/koji\.server: .*"not a url"/);
    expect(text).toMatch(/ssh\.hostKeyPolicy: .*"trusting"/);
    expect(text).toMatch(/timeouts\.drain: expected a duration .*"6 hours"/);
    expect(text).toMatch(/rolling\.fraction: .*2/);
    expect(text).toMatch(/hosts\[0\]\.virthost: a virt host needs a virthost/);
    expect(text).toMatch(/hosts\[1\]: unknown key "colour"/);
    expect(text).toMatch(/hosts\[2\]\.name: expected a host name .*"bad name!"/);
    expect(problems.length).toBeGreaterThanOrEqual(7);
  });

  it('cross-checks virthosts, duplicates and files', () => {
    const yaml = `
koji: { server: "https://k/kojihub", cert: ./nope.pem }
ssh: { key: ./nokey, knownHosts: ./kh }
installer: { kernel: k, initrd: i, kickstart: ks }
hosts:
  - { name: g, kind: virt, virthost: b }
  - { name: b, kind: baremetal }
  - { name: b, kind: baremetal }
`;
    const text = problemsOf(() => parseConfig(yaml, { baseDir: dir })).join('\n');
    expect(text).toMatch(/hosts\[2\]\.name: "b" appears twice/);
    expect(text).toMatch(/hosts\[0\]\.virthost: "b" is kind baremetal/);
    expect(text).toMatch(/koji\.cert: file .*nope\.pem does not exist/);
    expect(text).toMatch(/ssh\.key: file .*nokey does not exist/);
  });

  it('refuses a file that is not YAML or not a mapping', () => {
    expect(problemsOf(() => parseConfig('a: [1, 2', { baseDir: dir }))[0]).toMatch(/^YAML:/);
    expect(problemsOf(() => parseConfig('- 1\n- 2\n', { baseDir: dir }))[0]).toMatch(/mapping/);
    expect(problemsOf(() => loadConfig(path.join(dir, 'missing.yaml')))[0]).toMatch(/cannot read/);
  });

  it.each([
    ['90s', 90_000],
    ['20m', 1_200_000],
    ['6h', 21_600_000],
    ['14d', 1_209_600_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['6 hours', undefined],
    ['', undefined],
    ['10', undefined],
  ])('duration %j -> %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('rolling.window', () => {
  it('is checked when the config loads', () => {
    const yaml = `
koji: { server: "https://k/kojihub", cert: /x }
ssh: { key: /k, knownHosts: /kh }
installer: { kernel: k, initrd: i, kickstart: ks }
rolling: { window: "Someday 25:00-26:00" }
hosts: [{ name: a, kind: baremetal }]
`;
    const text = problemsOf(() => parseConfig(yaml, { baseDir: dir, checkFiles: false })).join('\n');
    expect(text).toMatch(/rolling\.window "Someday 25:00-26:00"/);
  });
});
