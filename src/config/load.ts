/**
 * loadConfig: YAML text -> ${ENV} interpolation -> schema -> cross-checks -> paths resolved. Every problem is
 * collected and reported at once, sorted by key path, each with its key path, the bad value and what was
 * expected — but never the value of a secret (a key named like a password, token or secret) nor one that came
 * from the environment. The cross-field checks, and the checks of what the steps will need (files, installer
 * keys), run also when fields are invalid: on what parsed (cross-check.ts, salvage.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors';
import { crossCheck } from './cross-check';
import { byKeyPath, keyPath, type Problem } from './problems';
import { markInvalid, salvage, type Loose } from './salvage';
import { configSchema, type Config } from './schema';

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
  const problems: Problem[] = [];
  const unset: PropertyKey[][] = [];
  const fromEnv = new Map<string, string[]>();
  const raw = interpolate(doc.toJS(), options.env ?? {}, [], problems, fromEnv);
  unset.push(...problems.map((p) => p.at));
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(['expected a mapping at the top of the file'], options.file);
  }
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => formatIssue(issue, fromEnv)));
  // The cross-field checks run also when fields failed, on what parsed, so one run reports everything.
  const view = (parsed.success ? structuredClone(parsed.data) : salvage(configSchema, raw)) as Loose<Config>;
  for (const at of unset) markInvalid(view, at); // an unset ${ENV} is reported once, not checked again
  problems.push(...crossCheck(view, { baseDir: options.baseDir, checkFiles: options.checkFiles ?? true }));
  if (problems.length || !parsed.success) {
    throw new ConfigError(problems.sort(byKeyPath).map((p) => p.text), options.file);
  }
  return resolvePaths(parsed.data, options.baseDir);
}

function interpolate(
  value: unknown,
  env: Record<string, string | undefined>,
  at: PropertyKey[],
  problems: Problem[],
  fromEnv: Map<string, string[]>,
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
      const v = env[name];
      if (v === undefined) {
        problems.push({ at, text: `${keyPath(at)}: environment variable ${name} is not set` });
        return whole; // keep the text, so the schema does not report the same key twice
      }
      fromEnv.set(keyPath(at), [...(fromEnv.get(keyPath(at)) ?? []), name]);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...at, i], problems, fromEnv));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...at, k], problems, fromEnv)]));
  }
  return value;
}

/** Keys whose values are secrets (passwords, tokens, signing secrets, key material): never echoed in an error. */
const SECRET_KEY = /secret|passw(or)?d|passphrase|token|credential|private_?key|api_?key/i;

export function isSecretPath(at: readonly PropertyKey[]): boolean {
  if (at.some((k) => typeof k === 'string' && SECRET_KEY.test(k))) return true;
  // a post-install file's literal content may be a secret file's (mode 0600) content
  return at.length === 4 && (at[0] === 'postinstall' || at[0] === 'virthostPostinstall') && at[3] === 'content';
}

/** JSON of a value for an error, with the values under secret keys inside it replaced. */
function shown(input: unknown): string | undefined {
  const text = JSON.stringify(input, (k, v: unknown) => (k && SECRET_KEY.test(k) ? '(hidden)' : v));
  return text === undefined ? undefined : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function formatIssue(issue: z.core.$ZodIssue, fromEnv: Map<string, string[]>): Problem {
  const at = issue.path as PropertyKey[];
  const where = keyPath(at);
  if (issue.code === 'unrecognized_keys') {
    return { at, text: `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
  }
  const input = (issue as { input?: unknown }).input;
  let msg = issue.message;
  if (issue.code === 'invalid_type' && input === undefined) msg = `required (${issue.expected})`;
  else if (issue.code === 'invalid_type') msg = `expected ${article(issue.expected)}`;
  const env = [...fromEnv].filter(([p]) => p === where || p.startsWith(`${where}.`) || p.startsWith(`${where}[`)).flatMap(([, n]) => n);
  if (isSecretPath(at)) {
    // a custom message may quote the value: a secret's keeps only what was expected
    const why = at[at.length - 1] === 'content' ? "a file's content may be a secret" : 'it is a secret';
    return { at, text: `${where}: ${issue.code === 'custom' ? 'invalid value' : msg} (value hidden: ${why})` };
  }
  if (env.length && input !== undefined) {
    return { at, text: `${where}: ${issue.code === 'custom' ? 'invalid value' : msg} (value hidden: it comes from \${${[...new Set(env)].join('}, ${')}})` };
  }
  const got = input === undefined ? '' : ` (got ${shown(input)})`;
  return { at, text: `${where}: ${msg}${msg.includes('got ') ? '' : got}` };
}

function article(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
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
