/**
 * Reads a koji CLI profile from the INI files the koji CLI itself reads, in its order (later files win):
 * /etc/koji.conf.d/*.conf, /etc/koji.conf, ~/.koji/config.d/*.conf, ~/.koji/config. Paths are injectable for
 * tests. Like koji, `~` in cert/serverca/keytab is expanded, and cert/serverca fall back to
 * ~/.koji/client.crt and ~/.koji/serverca.crt when those files exist.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CodedError } from '../errors';

export interface KojiProfile {
  name: string;
  server?: string;
  weburl?: string;
  cert?: string;
  serverca?: string;
  authtype?: string;
  principal?: string;
  keytab?: string;
  /** Which files were read, in order (for error messages). */
  files: string[];
}

export interface ProfilePaths {
  /** Files or directories (directories: their *.conf, sorted), read in order; later ones win. */
  sources?: string[];
  /** Home directory for `~` expansion and the default user files. */
  home?: string;
}

export class KojiProfileError extends CodedError {
  constructor(message: string) {
    super('E_KOJI_PROFILE', message);
  }
}

export function defaultProfileSources(home = os.homedir()): string[] {
  return ['/etc/koji.conf.d', '/etc/koji.conf', path.join(home, '.koji/config.d'), path.join(home, '.koji/config')];
}

type Ini = Map<string, Map<string, string>>;

/** A small reader for Python's ConfigParser format: [section], key = value or key: value, # and ; comments,
 * indented continuation lines, keys case-insensitive, a [DEFAULT] section shared by all. */
export function parseIni(text: string, into: Ini = new Map(), file = '<ini>'): Ini {
  let section: Map<string, string> | undefined;
  let lastKey: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    if (/^\s*([#;]|$)/.test(raw)) return;
    if (/^\s/.test(raw) && section && lastKey !== undefined) {
      section.set(lastKey, `${section.get(lastKey)}\n${raw.trim()}`.trim());
      return;
    }
    const head = /^\[([^\]]+)\]\s*$/.exec(raw.trim());
    if (head) {
      const name = head[1]!.trim();
      section = into.get(name) ?? new Map();
      into.set(name, section);
      lastKey = undefined;
      return;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw.trim());
    if (!kv) throw new KojiProfileError(`${file}:${i + 1}: cannot read "${raw.trim()}" (expected key = value)`);
    if (!section) throw new KojiProfileError(`${file}:${i + 1}: "${kv[1]}" comes before any [section]`);
    lastKey = kv[1]!.toLowerCase();
    section.set(lastKey, kv[2]!.trim());
  });
  return into;
}

function listSources(sources: string[]): string[] {
  const files: string[] = [];
  for (const src of sources) {
    let st;
    try {
      st = statSync(src);
    } catch {
      continue; // absent files are normal: koji skips them too
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(src).sort()) {
        const f = path.join(src, name);
        if (name.endsWith('.conf') && statSync(f).isFile()) files.push(f);
      }
    } else if (st.isFile()) files.push(src);
  }
  return files;
}

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
}

/** Reads profile `name`; throws KojiProfileError when no file has a [name] section. */
export function readKojiProfile(name: string, paths: ProfilePaths = {}): KojiProfile {
  const home = paths.home ?? os.homedir();
  const files = listSources(paths.sources ?? defaultProfileSources(home));
  const ini: Ini = new Map();
  for (const f of files) parseIni(readFileSync(f, 'utf8'), ini, f);
  const section = ini.get(name);
  if (!section) {
    const known = [...ini.keys()].filter((k) => k !== 'DEFAULT');
    throw new KojiProfileError(
      `no koji profile "${name}" in ${files.length ? files.join(', ') : 'any koji config file (none found)'}` +
        (known.length ? `; profiles found: ${known.join(', ')}` : '') +
        '; fix koji.profile or set koji.server, koji.cert and koji.serverca instead',
    );
  }
  const merged = new Map([...(ini.get('DEFAULT') ?? new Map()), ...section]);
  const get = (k: string) => {
    const v = merged.get(k);
    return v === undefined || v === '' ? undefined : v;
  };
  const filePath = (k: string, fallback?: string) => {
    const v = get(k);
    if (v) return expandHome(v, home);
    if (fallback) {
      const f = path.join(home, fallback);
      if (existsSync(f)) return f;
    }
    return undefined;
  };
  return {
    name,
    server: get('server'),
    weburl: get('weburl'),
    cert: filePath('cert', '.koji/client.crt'),
    serverca: filePath('serverca', '.koji/serverca.crt'),
    authtype: get('authtype'),
    principal: get('principal'),
    keytab: filePath('keytab'),
    files,
  };
}
