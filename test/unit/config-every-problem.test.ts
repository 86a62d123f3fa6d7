/**
 * The config loader reports every problem in one run (field-level and cross-field together, sorted by key path),
 * finds at load what a host's steps will need (installer.tree for virt hosts, the files steps 6 reads, the
 * playbook), and never echoes a secret's value.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { ConfigError } from '../../src/errors';
import { problemsOf } from '../support/config-problems';

const dir = mkdtempSync(path.join(tmpdir(), 'rekick-config-all-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = `
ssh: { key: /k, knownHosts: /kh }
installer: { kernel: k, initrd: i, kickstart: ks, tree: t }
`;

describe('every problem in one run', () => {
  it('a field-level error does not hide the cross-field errors', () => {
    const yaml = `
koji: { cert: /x }
ssh: { key: /k, knownHosts: /kh, hostKeyPolicy: trusting }
installer: { kernel: k, initrd: i, kickstart: ks, tree: t }
hosts:
  - { name: g, kind: virt, virthost: nosuch }
  - { name: b, kind: baremetal, port: 0 }
  - { name: b, kind: baremetal }
`;
    const problems = problemsOf(() => parseConfig(yaml, { baseDir: dir, checkFiles: false }));
    expect(problems).toEqual([
      'hosts[0].virthost: "nosuch" is not a host in this file',
      expect.stringMatching(/^hosts\[1\]\.port: .*\(got 0\)$/),
      'hosts[2].name: "b" appears twice',
      'koji.server: required (or koji.profile)',
      expect.stringMatching(/^ssh\.hostKeyPolicy: .*"trusting"/),
    ]);
  });

  it('checks the hosts that parsed, and skips only the checks whose inputs are invalid', () => {
    const yaml = `${base}
koji: { server: "https://k/kojihub", cert: /x, authtype: sometimes, principal: "a b" }
hosts:
  - { name: g, kind: virt, virthost: b, colour: red }
  - { name: b, kind: baremetal }
  - { name: v, kind: virt, virthost: 7 }
`;
    const problems = problemsOf(() => parseConfig(yaml, { baseDir: dir, checkFiles: false }));
    expect(problems).toContain('hosts[0]: unknown key "colour"');
    expect(problems).toContain('hosts[0].virthost: "b" is kind baremetal, expected virthost'); // host 0 is checked all the same
    expect(problems.filter((p) => p.startsWith('hosts[2].virthost'))).toHaveLength(1); // the type error only
    expect(problems.filter((p) => p.startsWith('koji.'))).toEqual([
      expect.stringMatching(/^koji\.authtype: .*"sometimes"/), // and no authtype-dependent check on a guess
      'koji.principal: expected a Kerberos principal like rekick@EXAMPLE.ORG (got "a b")',
    ]);
  });

  it('an unset ${ENV} is reported once, not also as a missing file', () => {
    const yaml = `${base}
koji: { server: "https://k/kojihub", cert: "\${CERT}" }
hosts: [{ name: a, kind: baremetal }]
`;
    expect(problemsOf(() => parseConfig(yaml, { baseDir: dir, env: {} }))).toEqual([
      'koji.cert: environment variable CERT is not set',
      'ssh.key: file /k does not exist',
    ]);
  });
});

describe('what the steps will need, checked at load', () => {
  it('a virt host without installer.tree is a config error naming the host', () => {
    const yaml = `
koji: { server: "https://k/kojihub", cert: /x }
ssh: { key: /k, knownHosts: /kh }
installer: { kernel: k, initrd: i, kickstart: ks }
hosts:
  - { name: buildvm-x86-07, kind: virt, virthost: vmhost }
  - { name: vmhost, kind: virthost }
  - { name: buildarm-01, kind: baremetal }
`;
    expect(problemsOf(() => parseConfig(yaml, { baseDir: dir, checkFiles: false }))).toEqual([
      'installer.tree: required by the virt host buildvm-x86-07 (step 4 runs virt-install --location with it)',
    ]);
    const bare = yaml.replace(/ {2}- \{ name: buildvm.*\n/, '');
    expect(() => parseConfig(bare, { baseDir: dir, checkFiles: false })).not.toThrow(); // only virt hosts need it
  });

  it("every file the post-install steps read: each host's source, the virthosts' section, the playbook", () => {
    mkdirSync(path.join(dir, 'pki'), { recursive: true });
    for (const f of ['k', 'kojid.conf', 'pki/a.pem']) writeFileSync(path.join(dir, f), 'x');
    mkdirSync(path.join(dir, 'adir'), { recursive: true });
    const yaml = `
koji: { server: "https://k/kojihub", cert: ./k }
ssh: { key: ./adir, knownHosts: ./kh }
installer: { kernel: k, initrd: i, kickstart: ks, tree: t }
postinstall:
  files:
    - { dest: /etc/kojid/kojid.conf, template: ./kojid.conf }
    - { dest: "/etc/kojid/{host}.pem", source: "./pki/{host}.pem", mode: "0600" }
    - { dest: /etc/motd, template: "./motd-{host}" }
virthostPostinstall:
  files: [{ dest: /etc/vh.conf, source: ./vh.conf }]
  playbook: { path: ./site.yml }
hosts:
  - { name: a, kind: baremetal }
  - { name: b, kind: baremetal }
  - { name: vh, kind: virthost }
`;
    expect(problemsOf(() => parseConfig(yaml, { baseDir: dir }))).toEqual([
      `postinstall.files[1].source: file ${dir}/pki/b.pem (for host b) does not exist`,
      `postinstall.files[2].template: file ${dir}/motd-{host} does not exist`,
      `ssh.key: file ${dir}/adir is a directory, expected a file`,
      `virthostPostinstall.files[0].source: file ${dir}/vh.conf does not exist`,
      `virthostPostinstall.playbook.path: file ${dir}/site.yml does not exist`,
    ]);
  });
});

describe('secrets are never echoed', () => {
  it('a secret written as a bare number is named, its value hidden', () => {
    const yaml = `${base}
koji: { server: "https://k/kojihub", cert: /x }
irc: { host: irc, sasl: { account: rekick, password: 8675309123 } }
slack: { signingSecret: 5551234567, token: 4242424242 }
http: { token: 7777777777 }
hosts: [{ name: a, kind: baremetal }]
`;
    const err = (() => {
      try {
        parseConfig(yaml, { baseDir: dir, checkFiles: false });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.problems).toEqual([
      'http.token: expected a string (value hidden: it is a secret)',
      'irc.sasl.password: expected a string (value hidden: it is a secret)',
      'slack.signingSecret: expected a string (value hidden: it is a secret)',
      'slack.token: expected a string (value hidden: it is a secret)',
    ]);
    for (const digits of ['8675309123', '5551234567', '4242424242', '7777777777']) expect(err.message).not.toContain(digits);
  });

  it('nor a value from the environment, nor a secret inside a value shown, nor literal file content', () => {
    const yaml = `${base}
koji: { server: "\${KOJI_HUB}", cert: /x }
irc: { host: irc, sasl: [ { password: hunter2 } ] }
postinstall: { files: [{ dest: /etc/secret, content: 123456789, mode: "0600" }] }
hosts: [{ name: a, kind: baremetal }]
`;
    const problems = problemsOf(() => parseConfig(yaml, { baseDir: dir, checkFiles: false, env: { KOJI_HUB: 'xoxb-not-a-url' } }));
    const text = problems.join('\n');
    expect(text).toContain('koji.server: Invalid URL (value hidden: it comes from ${KOJI_HUB})');
    expect(text).toContain("postinstall.files[0].content: expected a string (value hidden: a file's content may be a secret)");
    expect(text).toMatch(/irc\.sasl: .*\(got \[\{"password":"\(hidden\)"\}\]\)/);
    for (const secret of ['xoxb-not-a-url', 'hunter2', '123456789']) expect(text).not.toContain(secret);
  });
});
