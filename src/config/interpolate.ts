/** `${NAME}` in the config's strings replaced from the environment; an unset one is a problem at its key path. */
import { keyPath, type Problem } from './problems';

/** `fromEnv` learns which key paths took which variables (their values are never shown in an error). */
export function interpolate(
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
