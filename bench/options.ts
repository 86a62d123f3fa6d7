/** Benchmark options: the defaults, overridden only by options actually given (an undefined flag keeps the default). */
export function withDefaults<T extends object>(defaults: T, given: Partial<T>): T {
  const out = { ...defaults };
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    if (typeof v === 'number' && !(Number.isFinite(v) && v > 0)) throw new Error(`--${k} must be a positive number, got ${v}`);
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
