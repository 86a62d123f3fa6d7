/** A fast deep copy of what the store keeps: JSON-shaped data (structuredClone for anything else). */
/**
 * Several times faster than structuredClone for a job record (~2 µs against ~14 µs), and the store copies a job at
 * every save and every event. Anything that is not a plain object or array (a Date, a Map, a Buffer) is handed to
 * structuredClone, so a value of another kind is still copied whole, never shared.
 *
 * structuredClone stays the better choice for objects with thousands of keys (a rolling run's host maps): V8 builds
 * those key by key in dictionary mode either way, and structuredClone does it natively.
 */
export function cloneJson<T>(value: T): T {
  return copy(value) as T;
}

function copy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out = value.slice();
    for (let i = 0; i < out.length; i++) {
      const v = out[i];
      if (v !== null && typeof v === 'object') out[i] = copy(v);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const key in out) {
    const v = out[key];
    if (v !== null && typeof v === 'object') out[key] = copy(v);
  }
  return out;
}
