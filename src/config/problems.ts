/** A config problem (key path and text), how key paths are written and ordered, and the loose views checks read. */
import type { Config } from './schema';
import { has, type Loose } from './salvage';

export interface Problem {
  /** Key path, for sorting: ['hosts', 2, 'virthost']. */
  at: PropertyKey[];
  text: string;
}

/** Records a problem at a key path. */
export type Add = (at: PropertyKey[], message: string) => void;

export type View = Loose<Config>;
export type HostView = Loose<Config['hosts'][number]>;
export type SectionView = Loose<Config['postinstall']>;

/** The hosts that parsed as objects, with their index. */
export function hostsOf(view: View): Array<[number, HostView]> {
  if (!has(view.hosts)) return [];
  return view.hosts.flatMap((h, i): Array<[number, HostView]> => (has(h) ? [[i, h]] : []));
}

export function keyPath(at: readonly PropertyKey[]): string {
  if (!at.length) return '(top level)';
  return at.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}

/** Orders problems by key path (indexes in numeric order); problems at one path keep their order. */
export function byKeyPath(a: Problem, b: Problem): number {
  for (let i = 0; i < Math.min(a.at.length, b.at.length); i++) {
    const x = a.at[i]!;
    const y = b.at[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.at.length - b.at.length;
}
