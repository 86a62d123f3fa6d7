/**
 * The HTTP exposure checked at load: the contract example gets a status listener on 127.0.0.1:8080 and Slack's
 * receiver on every address; Slack's port and the status port never meet on one address; the status listener
 * leaves loopback only with a token; token and tokenFile are never both set, are long enough, and a token file
 * is kept from other users. No message repeats a token.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { httpToken, isLoopback } from '../../src/config/http-exposure';
import { parseConfig } from '../../src/config/load';
import { ConfigError } from '../../src/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'rekick-http-exposure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SLACK = { signingSecret: 'sig', token: 'xoxb-1', channels: ['C1'] };
const TOKEN = 'T0k3n-of-24-characters!';

/** A valid config but for its `slack` and `http` sections. */
function load(sections: { slack?: unknown; http?: unknown }, checkFiles = false) {
  const raw = {
    koji: { server: 'https://127.0.0.1:1/kojihub', cert: '/nonexistent.pem' },
    ssh: { key: '/nonexistent', knownHosts: '/tmp/kh' },
    installer: { kernel: 'k', initrd: 'i', kickstart: 'ks' },
    hosts: [{ name: 'b1', kind: 'baremetal' }],
    ...sections,
  };
  return parseConfig(stringify(raw), { baseDir: dir, checkFiles });
}

/** The problems of the http/slack keys (other problems, such as missing key files, left out). */
function problems(sections: { slack?: unknown; http?: unknown }, checkFiles = false): string[] {
  try {
    load(sections, checkFiles);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.filter((p) => /^(http|slack)\b/.test(p));
  }
  return [];
}

function tokenFile(name: string, content: string, mode: number): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  chmodSync(file, mode);
  return file;
}

describe('HTTP exposure at load', () => {
  it('the contract example: Slack on every address at 3000, the status listener on 127.0.0.1:8080 without a token', () => {
    const text = readFileSync(path.resolve('rekick.example.yaml'), 'utf8');
    const c = parseConfig(text, { baseDir: dir, checkFiles: false, env: { REKICK_IRC_PASSWORD: 'pw', SLACK_SIGNING_SECRET: 'sig', SLACK_BOT_TOKEN: 'xoxb-1' } });
    expect(c.slack).toMatchObject({ host: '0.0.0.0', port: 3000 });
    expect(c.slack?.teamId).toBeUndefined();
    expect(c.http).toEqual({ enabled: true, host: '127.0.0.1', port: 8080 });
  });

  it("http.port equal to slack.port where the addresses meet is an error; apart, or disabled, it is not", () => {
    const clash = /^http\.port: 3000 is also slack\.port .*set http\.port to another port/;
    expect(problems({ slack: SLACK, http: { port: 3000 } })).toEqual([expect.stringMatching(clash)]);
    expect(problems({ slack: { ...SLACK, port: 8080 } })).toEqual([expect.stringMatching(/^http\.port: 8080 is also slack\.port/)]);
    expect(problems({ slack: { ...SLACK, host: '127.0.0.1' }, http: { port: 3000 } })).toEqual([expect.stringMatching(clash)]);
    expect(problems({ slack: { ...SLACK, host: 'rekick.example.org' }, http: { port: 3000 } })).toEqual([expect.stringMatching(clash)]);
    expect(problems({ slack: { ...SLACK, host: '10.1.2.3' }, http: { port: 3000 } })).toEqual([]);
    expect(problems({ slack: SLACK, http: { port: 3000, enabled: false } })).toEqual([]);
    expect(problems({ slack: { ...SLACK, port: 0 }, http: { port: 0 } })).toEqual([]);
  });

  it('http.token and http.tokenFile together are an error', () => {
    const file = tokenFile('both', TOKEN, 0o600);
    expect(problems({ http: { token: TOKEN, tokenFile: file } }, true)).toEqual(['http.token, http.tokenFile: set one of them, not both']);
  });

  it('a status listener off loopback without a token is an error naming the fix', () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'rekick.example.org']) {
      expect(problems({ http: { host } })).toEqual([expect.stringMatching(new RegExp(`^http\\.host: ${host.replace(/\./g, '\\.')} is not a loopback address.*set http\\.token or http\\.tokenFile`))]);
      expect(problems({ http: { host, token: TOKEN } })).toEqual([]);
      expect(problems({ http: { host, enabled: false } })).toEqual([]);
    }
    for (const host of ['127.0.0.1', '127.9.8.7', '::1', 'localhost', '::ffff:127.0.0.1']) expect(problems({ http: { host } })).toEqual([]);
    expect(isLoopback('[::1]')).toBe(true);
    expect(isLoopback('::ffff:10.0.0.1')).toBe(false);
  });

  it('a short token, or one with spaces, is an error that does not repeat it', () => {
    const short = problems({ http: { token: 'short-token' } });
    expect(short).toEqual(['http.token: the token has 11 characters, at least 16 are needed (make one with: openssl rand -hex 24)']);
    const spaced = problems({ http: { token: 'a token with spaces inside' } });
    expect(spaced).toEqual([expect.stringMatching(/^http\.token: the token may hold only printable ASCII/)]);
    expect(spaced[0]).not.toContain('spaces inside');
  });

  it('a token file readable or writable by every user, missing, empty or short is an error naming the file, never its content', () => {
    const open = tokenFile('open', TOKEN, 0o644);
    expect(problems({ http: { tokenFile: open } }, true)).toEqual([`http.tokenFile: ${open} is readable by every user (mode 0644): chmod o-rw ${open}`]);
    const writable = tokenFile('writable', TOKEN, 0o602);
    expect(problems({ http: { tokenFile: writable } }, true)).toEqual([expect.stringMatching(/is writable by every user \(mode 0602\)/)]);
    expect(problems({ http: { tokenFile: path.join(dir, 'nope') } }, true)).toEqual([expect.stringMatching(/^http\.tokenFile: cannot read .*nope: ENOENT/)]);
    expect(problems({ http: { tokenFile: tokenFile('empty', '\n', 0o600) } }, true)).toEqual([expect.stringMatching(/is empty$/)]);
    const short = problems({ http: { tokenFile: tokenFile('short', 'abc123\n', 0o640) } }, true);
    expect(short).toEqual([expect.stringMatching(/^http\.tokenFile: the token has 6 characters/)]);
    for (const p of problems({ http: { tokenFile: open } }, true)) expect(p).not.toContain(TOKEN);
  });

  it('a good token file (group-readable is fine) loads, relative to the config, and is read without its newline', () => {
    tokenFile('good', `  ${TOKEN}\n`, 0o640);
    const c = load({ http: { host: '0.0.0.0', tokenFile: 'good' } }, false);
    expect(c.http.tokenFile).toBe(path.join(dir, 'good'));
    expect(problems({ http: { host: '0.0.0.0', tokenFile: 'good' } }, true)).toEqual([]);
    expect(httpToken(c.http)).toBe(TOKEN);
    chmodSync(path.join(dir, 'good'), 0o604);
    expect(() => httpToken(c.http)).toThrow(ConfigError);
  });

  it('slack.teamId must look like a workspace id', () => {
    expect(load({ slack: { ...SLACK, teamId: 'T0123ABCD' } }).slack?.teamId).toBe('T0123ABCD');
    expect(problems({ slack: { ...SLACK, teamId: 'rekick' } })).toEqual([expect.stringMatching(/^slack\.teamId: expected a Slack workspace id/)]);
  });
});
