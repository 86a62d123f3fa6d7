/**
 * A schema issue as the problem line an operator reads: key path, what was expected and the bad value, but never
 * the value of a secret nor one that came from the environment.
 */
import type { z } from 'zod';
import { keyPath, type Problem } from './problems';

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

export function formatIssue(issue: z.core.$ZodIssue, fromEnv: Map<string, string[]>): Problem {
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
