/**
 * IRC nick comparison under the server's CASEMAPPING (ISUPPORT): `ascii` folds A-Z only, `rfc1459` (the default)
 * also folds []\~ to {}|^, `strict-rfc1459` folds []\ only.
 */
export type CaseFold = (name: string) => string;

export function caseFold(casemapping: unknown): CaseFold {
  const mapping = typeof casemapping === 'string' ? casemapping.toLowerCase() : 'rfc1459';
  if (mapping === 'ascii') return (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const special = mapping === 'strict-rfc1459' ? /[A-Z[\]\\]/g : /[A-Z[\]\\~]/g;
  const map: Record<string, string> = { '[': '{', ']': '}', '\\': '|', '~': '^' };
  return (s) => s.replace(special, (c) => map[c] ?? c.toLowerCase());
}
