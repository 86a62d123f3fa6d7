/**
 * Whether a known_hosts host field names a host: plain patterns with `*`/`?` wildcards and `!negations`, or one
 * hashed `|1|salt|hash` entry (HMAC-SHA1 of the name).
 */
import { createHmac } from 'node:crypto';

const compiledPatterns = new Map<string, RegExp>();

/** A host pattern as a RegExp, compiled once per pattern (a fleet's file repeats few wildcards). */
function wildcardToRegExp(pattern: string): RegExp {
  let re = compiledPatterns.get(pattern);
  if (!re) {
    if (compiledPatterns.size >= 10_000) compiledPatterns.clear();
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    compiledPatterns.set(pattern, (re = new RegExp(`^${source}$`, 'i')));
  }
  return re;
}

function patternMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern.toLowerCase() === name.toLowerCase();
  return wildcardToRegExp(pattern).test(name);
}

function hashedMatches(field: string, name: string): boolean {
  const parts = field.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return got.length === want.length && got.equals(want);
}

/** Whether a host field matches one lookup name (hashed, or patterns with negation). */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatches(field, name);
  let matched = false;
  for (const raw of field.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (patternMatches(pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

