/**
 * loadConfig: YAML text -> ${ENV} interpolation -> schema -> cross-checks -> paths resolved. Every problem is
 * collected and reported at once, each with its key path, the bad value and what was expected.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors';
import { readKeytabPrincipals } from '../koji/kerberos';
import { configSchema, type Config } from './schema';
import { httpExposureProblems } from './http-exposure';
import { parseWindow } from '../rolling/window';

export interface LoadOptions {
  /** The environment for `${NAME}`; callers pass process.env explicitly. */
  env?: Record<string, string | undefined>;
  /** Check that the files the config names exist (default true). */
  checkFiles?: boolean;
}

export function loadConfig(file: string, options: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read the config file: ${(err as Error).message}`], file);
  }
  return parseConfig(text, { ...options, baseDir: path.dirname(path.resolve(file)), file });
}

export function parseConfig(
  text: string,
  options: LoadOptions & { baseDir: string; file?: string },
): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigError(doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`), options.file);
  }
  const problems: string[] = [];
  const raw = interpolate(doc.toJS(), options.env ?? {}, [], problems);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(['expected a mapping at the top of the file'], options.file);
  }
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map(formatIssue));
    throw new ConfigError(problems, options.file);
  }
  const config = resolvePaths(parsed.data, options.baseDir);
  problems.push(...crossCheck(config, options.checkFiles ?? true));
  if (problems.length) throw new ConfigError(problems, options.file);
  return config;
}

function interpolate(value: unknown, env: Record<string, string | undefined>, at: PropertyKey[], problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
      const v = env[name];
      if (v === undefined) {
        problems.push(`${keyPath(at)}: environment variable ${name} is not set`);
        return whole; // keep the text, so the schema does not report the same key twice
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...at, i], problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...at, k], problems)]));
  }
  return value;
}

function keyPath(at: readonly PropertyKey[]): string {
  if (!at.length) return '(top level)';
  return at.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const where = keyPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  const input = (issue as { input?: unknown }).input;
  const got = input === undefined ? 'missing' : `got ${JSON.stringify(input)?.slice(0, 80)}`;
  let msg = issue.message;
  if (issue.code === 'invalid_type' && input === undefined) msg = `required (${issue.expected})`;
  return `${where}: ${msg}${msg.includes('got ') || input === undefined ? '' : ` (${got})`}`;
}

const PATH_KEYS: Array<[string, string]> = [
  ['koji', 'cert'],
  ['koji', 'serverca'],
  ['koji', 'keytab'],
  ['ssh', 'key'],
  ['ssh', 'knownHosts'],
  ['http', 'tokenFile'],
];

function resolvePaths(config: Config, baseDir: string): Config {
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  const c: Config = structuredClone(config);
  c.store = abs(c.store);
  for (const [section, key] of PATH_KEYS) {
    const obj = (c as unknown as Record<string, Record<string, string | undefined>>)[section];
    if (obj?.[key]) obj[key] = abs(obj[key]!);
  }
  for (const section of [c.postinstall, c.virthostPostinstall]) {
    section.files = section.files.map((f) => ({
      ...f,
      template: f.template && abs(f.template),
      source: f.source && abs(f.source),
    }));
    if (section.playbook) {
      section.playbook.path = abs(section.playbook.path);
      if (section.playbook.inventory) section.playbook.inventory = abs(section.playbook.inventory);
    }
  }
  return c;
}

function crossCheck(config: Config, checkFiles: boolean): string[] {
  const problems: string[] = [];
  const byName = new Map<string, Config['hosts'][number]>();
  config.hosts.forEach((h, i) => {
    if (byName.has(h.name)) problems.push(`hosts[${i}].name: "${h.name}" appears twice`);
    byName.set(h.name, h);
  });
  config.hosts.forEach((h, i) => {
    if (h.kind === 'virt') {
      const vh = byName.get(h.virthost!);
      if (!vh) problems.push(`hosts[${i}].virthost: "${h.virthost}" is not a host in this file`);
      else if (vh.kind !== 'virthost') problems.push(`hosts[${i}].virthost: "${h.virthost}" is kind ${vh.kind}, expected virthost`);
    } else if (h.virthost) {
      problems.push(`hosts[${i}].virthost: only a virt host has a virthost`);
    }
  });
  if (config.rolling.window) {
    try {
      parseWindow(config.rolling.window);
    } catch (err) {
      problems.push(...(err instanceof ConfigError ? err.problems : [`rolling.window: ${(err as Error).message}`]));
    }
  }
  if (!config.koji.server && !config.koji.profile) problems.push('koji.server: required (or koji.profile)');
  const { principal, keytab } = config.koji;
  // as the Koji client decides: ssl with a certificate, kerberos when a principal or keytab is all there is
  const authtype = config.koji.authtype ?? (!config.koji.cert && (principal || keytab) ? 'kerberos' : 'ssl');
  if (authtype === 'ssl' && !config.koji.cert && !config.koji.profile) problems.push('koji.cert: required for authtype ssl');
  if (authtype === 'ssl' && (principal || keytab)) {
    problems.push(`koji.${principal ? 'principal' : 'keytab'}: used only with authtype kerberos (set koji.authtype: kerberos, or remove it)`);
  }
  if (principal !== undefined && !/^[^@\s/][^@\s]*(@[^@\s]+)?$/.test(principal)) {
    problems.push(`koji.principal: expected a Kerberos principal like rekick@EXAMPLE.ORG (got ${JSON.stringify(principal)})`);
  }
  if (authtype === 'kerberos' && checkFiles && keytab && existsSync(keytab)) {
    try {
      const held = readKeytabPrincipals(keytab);
      const want = principal && (principal.includes('@') ? principal : undefined);
      const base = principal && !principal.includes('@') ? principal : undefined;
      if (held.length === 0) problems.push(`koji.keytab: ${keytab} holds no keys; export rekick's key into it (kadmin ktadd -k, or ipa-getkeytab)`);
      else if ((want && !held.includes(want)) || (base && !held.some((h) => h.slice(0, h.lastIndexOf('@')) === base))) {
        problems.push(`koji.keytab: ${keytab} holds no key for koji.principal ${principal} (it holds ${held.join(', ')})`);
      }
    } catch (err) {
      problems.push(`koji.keytab: ${(err as Error).message}`);
    }
  }
  problems.push(...httpExposureProblems(config, checkFiles));
  for (const [role, ids] of Object.entries(config.roles)) {
    if (new Set(ids).size !== ids.length) problems.push(`roles.${role}: an identity appears twice`);
  }
  if (checkFiles) {
    const mustExist: Array<[string, string | undefined]> = [
      ['koji.cert', config.koji.cert],
      ['koji.serverca', config.koji.serverca],
      ['koji.keytab', config.koji.keytab],
      ['ssh.key', config.ssh.key],
    ];
    config.postinstall.files.forEach((f, i) => {
      const p = f.template ?? f.source;
      if (p && !p.includes('{')) mustExist.push([`postinstall.files[${i}].${f.template ? 'template' : 'source'}`, p]);
    });
    for (const [key, p] of mustExist) {
      if (p && !existsSync(p)) problems.push(`${key}: file ${p} does not exist`);
    }
    config.postinstall.files.forEach((f, i) => {
      const p = f.template ?? f.source;
      if (!p || !p.includes('{')) return;
      for (const h of config.hosts) {
        if (h.kind === 'virthost') continue;
        const concrete = p.replaceAll('{host}', h.name).replaceAll('{arch}', h.arch);
        if (!existsSync(concrete)) {
          problems.push(`postinstall.files[${i}]: file ${concrete} (for host ${h.name}) does not exist`);
        }
      }
    });
  }
  return problems;
}
