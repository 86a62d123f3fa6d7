/**
 * What rekick exposes over HTTP, checked at load: Slack's public receiver and the status listener (page, API,
 * metrics) never share a port on one address; the status listener leaves loopback only with a token; the token
 * (`http.token` or `http.tokenFile`, never both) is long enough to resist guessing and is kept from other users.
 * No problem message repeats a token.
 */
import { readFileSync, statSync } from 'node:fs';
import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../errors';
import type { Config } from './schema';

export const MIN_TOKEN_LENGTH = 16;

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) and `localhost`: addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost') return true;
  if (isIPv4(h)) return loopback.check(h, 'ipv4');
  if (isIPv6(h)) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped ? loopback.check(mapped[1]!, 'ipv4') : loopback.check(h, 'ipv6');
  }
  return false;
}

const isWildcard = (h: string) => h === '0.0.0.0' || h === '::' || h === '0:0:0:0:0:0:0:0';

/** Whether two listen addresses can take the same connections (a name may resolve to anything: assume so). */
function overlap(a: string, b: string): boolean {
  return a === b || isWildcard(a) || isWildcard(b) || !isIP(a) || !isIP(b);
}

function tokenProblems(key: string, token: string): string[] {
  if (token.length < MIN_TOKEN_LENGTH) {
    return [`${key}: the token has ${token.length} characters, at least ${MIN_TOKEN_LENGTH} are needed (make one with: openssl rand -hex 24)`];
  }
  if (!/^[\x21-\x7e]+$/.test(token)) return [`${key}: the token may hold only printable ASCII characters without spaces (it travels in an HTTP header)`];
  return [];
}

/** The token in `file`, or why it cannot be used (the message names the file, never its content). */
function readTokenFile(file: string): { token: string } | { problem: string } {
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { problem: `http.tokenFile: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (the user rekick runs as must be able to read it)` };
  }
  if (mode & 0o006) {
    return { problem: `http.tokenFile: ${file} is ${mode & 0o004 ? 'readable' : 'writable'} by every user (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): chmod o-rw ${file}` };
  }
  const token = text.trim();
  if (!token) return { problem: `http.tokenFile: ${file} is empty` };
  const bad = tokenProblems('http.tokenFile', token);
  return bad.length ? { problem: bad[0]! } : { token };
}

/** A problem of the HTTP exposure: its text, and the key it is about (for sorting with the others). */
export interface ExposureProblem {
  at: string[];
  text: string;
}

/** Load-time problems of the HTTP exposure; `checkFiles: false` skips reading the token file. */
export function httpExposureProblems(config: Config, checkFiles: boolean): ExposureProblem[] {
  const { http, slack } = config;
  const problems: ExposureProblem[] = [];
  const add = (key: keyof Config['http'], ...texts: string[]) => problems.push(...texts.map((text) => ({ at: ['http', key], text })));
  if (http.token !== undefined && http.tokenFile !== undefined) add('token', 'http.token, http.tokenFile: set one of them, not both');
  if (http.token !== undefined) add('token', ...tokenProblems('http.token', http.token));
  if (http.tokenFile !== undefined && checkFiles) {
    const read = readTokenFile(http.tokenFile);
    if ('problem' in read) add('tokenFile', read.problem);
  }
  if (!http.enabled) return problems;
  if (!isLoopback(http.host) && http.token === undefined && http.tokenFile === undefined) {
    add(
      'host',
      `http.host: ${http.host} is not a loopback address, and the status page, API and metrics show who asked for what, their reasons, Koji comments and command output: set http.token or http.tokenFile (or keep http.host: 127.0.0.1)`,
    );
  }
  if (slack && http.port !== 0 && http.port === slack.port && overlap(http.host, slack.host)) {
    add(
      'port',
      `http.port: ${http.port} is also slack.port (on ${slack.host}): Slack's public receiver and the status page need a port each; set http.port to another port (default 8080)`,
    );
  }
  return problems;
}

/** The status listener's token: `http.token`, or `http.tokenFile` read now (a ConfigError when unusable). */
export function httpToken(http: Config['http']): string | undefined {
  if (http.tokenFile === undefined) return http.token;
  const read = readTokenFile(http.tokenFile);
  if ('problem' in read) throw new ConfigError([read.problem]);
  return read.token;
}
