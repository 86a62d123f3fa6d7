/**
 * What can be used of a config that did not pass the schema: every field that is valid on its own, parsed (with
 * its defaults and transforms), and INVALID in place of each field that is not. The cross-field checks run on it,
 * so one run reports the field-level errors and the cross-field ones together; a check skips what is INVALID.
 */
import type { z } from 'zod';

export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

/** T with every field (at any depth) possibly INVALID. */
export type Loose<T> = T extends readonly (infer U)[]
  ? Array<Loose<U> | Invalid>
  : T extends object
    ? { [K in keyof T]: Loose<T[K]> | Invalid }
    : T;

/** A value that is present and valid. */
export function has<T>(v: T | Invalid | undefined): v is T {
  return v !== INVALID && v !== undefined;
}

/** A value that is valid (present or not). */
export function valid<T>(v: T | Invalid): v is T {
  return v !== INVALID;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object or array schema under optional/default/prefault/nullable/pipe wrappers, if any. */
function container(schema: z.ZodType): Def | undefined {
  let def = defOf(schema);
  for (let i = 0; i < 10; i++) {
    if (def.type === 'object' || def.type === 'array') return def;
    const next = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (!next) return undefined;
    def = defOf(next);
  }
  return undefined;
}

/** Parses `value` with `schema`, keeping what is valid field by field; INVALID where nothing is. */
export function salvage(schema: z.ZodType, value: unknown): unknown {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const def = container(schema);
  if (def?.type === 'object' && def.shape && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    return Object.fromEntries(Object.entries(def.shape).map(([k, s]) => [k, salvage(s, v[k])]));
  }
  if (def?.type === 'array' && def.element && Array.isArray(value)) {
    return value.map((item) => salvage(def.element!, item));
  }
  return INVALID;
}

/** Marks the value at `at` INVALID (e.g. one whose `${ENV}` could not be replaced). */
export function markInvalid(root: unknown, at: readonly PropertyKey[]): void {
  let node = root;
  for (let i = 0; i < at.length - 1; i++) {
    if (node === null || typeof node !== 'object') return;
    node = (node as Record<PropertyKey, unknown>)[at[i]!];
  }
  const last = at[at.length - 1];
  if (last !== undefined && node !== null && typeof node === 'object' && last in node) {
    (node as Record<PropertyKey, unknown>)[last] = INVALID;
  }
}
