/**
 * Generates docs/config-reference.md from the config schema, so the reference cannot drift from what rekick
 * accepts. `npm run docs:config` rewrites the file; a test fails when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from './schema';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  const t = Array.isArray(s.type) ? s.type : [s.type];
  if (t.includes('string') && t.includes('number')) return 'duration (`90s`, `20m`, `6h`, `14d`) or seconds';
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties)}`;
  return t.filter(Boolean).join(' \\| ') || 'value';
}

function bounds(s: JsonSchema): string {
  const parts: string[] = [];
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.minimum !== undefined && s.minimum > -Number.MAX_SAFE_INTEGER) parts.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) parts.push(`≤ ${s.maximum}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

function rows(s: JsonSchema, prefix: string, out: string[]): void {
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const required = s.required?.includes(key) && prop.default === undefined ? 'yes' : '';
    const def = prop.default === undefined ? '' : `\`${JSON.stringify(prop.default)}\``;
    const desc = (prop.description ?? '').replace(/\|/g, '\\|');
    out.push(`| \`${path}\` | ${typeOf(prop)}${bounds(prop)} | ${required} | ${def} | ${desc} |`);
    if (prop.properties) rows(prop, path, out);
    if (prop.type === 'array' && prop.items?.properties) rows(prop.items, `${path}[]`, out);
  }
}

export function renderConfigReference(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'Every key rekick accepts. `rekick.example.yaml` is a complete, commented example. `${NAME}` in any value is',
    'replaced by the environment variable NAME (a missing one is an error that names it); relative paths are',
    'relative to the config file. Unknown keys are refused, so a typo never goes unnoticed.',
    '',
    '| key | type | required | default | meaning |',
    '| --- | --- | --- | --- | --- |',
  ];
  rows(schema, '', out);
  return `${out.join('\n')}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = new URL('../../docs/config-reference.md', import.meta.url);
  writeFileSync(target, renderConfigReference());
  process.stdout.write(`wrote ${fileURLToPath(target)}\n`);
}
