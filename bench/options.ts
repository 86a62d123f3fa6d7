/** Benchmark options: the defaults, overridden only by options actually given (an undefined flag keeps the default). */
export function withDefaults<T extends object>(defaults: T, given: Partial<T>, zeroAllowed: ReadonlyArray<keyof T> = []): T {
  const out = { ...defaults };
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    const least = zeroAllowed.includes(k as keyof T) ? 0 : Number.MIN_VALUE;
    if (typeof v === 'number' && !(Number.isFinite(v) && v >= least)) throw new Error(`--${k} must be a ${least ? 'positive' : 'non-negative'} number, got ${v}`);
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
