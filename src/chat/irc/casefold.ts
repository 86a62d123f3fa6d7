/**
 * IRC name comparison: under the server's CASEMAPPING (ISUPPORT): `ascii` folds A-Z only, `rfc1459` (the default)
 * also folds []\~ to {}|^, `strict-rfc1459` folds []\ only; or plainly, ASCII case aside (sameName).
 */
export type CaseFold = (name: string) => string;

export function caseFold(casemapping: unknown): CaseFold {
  const mapping = typeof casemapping === 'string' ? casemapping.toLowerCase() : 'rfc1459';
  if (mapping === 'ascii') return (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const special = mapping === 'strict-rfc1459' ? /[A-Z[\]\\]/g : /[A-Z[\]\\~]/g;
  const map: Record<string, string> = { '[': '{', ']': '}', '\\': '|', '~': '^' };
  return (s) => s.replace(special, (c) => map[c] ?? c.toLowerCase());
}

/**
 * Two IRC names (nicks, channels) the same, ASCII case aside: how rekick compares its own nick and its outbox's
 * targets (the account map and WHOIS fold with the server's CASEMAPPING instead).
 */
export const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
