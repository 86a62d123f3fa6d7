/**
 * loadConfig: YAML text -> ${ENV} interpolation (interpolate.ts) -> schema -> cross-checks -> paths resolved. Every
 * problem is collected and reported at once, sorted by key path, never showing a secret's value (issue-text.ts);
 * the cross-checks run also when fields are invalid, on what parsed (cross-check.ts, salvage.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors';
import { crossCheck } from './cross-check';
import { interpolate } from './interpolate';
import { formatIssue } from './issue-text';
import { byKeyPath, type Problem } from './problems';
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
