/**
 * How every benchmark reports: one line per figure, `bench NAME: VALUE UNIT (target TARGET)`, so runs can be
 * compared by machine (and grepped). Figures are also collected, so `npm run bench` can repeat them at the end.
 */
import { cpus } from 'node:os';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  target: string;
}

const figures: Figure[] = [];

/** Formats a value with 3 significant figures at most (12.4, 0.873, 1234). */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

export function figureLine(f: Figure): string {
  return `bench ${f.name}: ${formatValue(f.value)} ${f.unit} (target ${f.target})`;
}

/** Prints the figure line and keeps the figure for the summary. */
export function report(name: string, value: number, unit: string, target: string): Figure {
  const f = { name, value, unit, target };
  figures.push(f);
  process.stdout.write(`${figureLine(f)}\n`);
  return f;
}

/** A line of context (not a figure): what was measured, how, and anything scaled down. */
export function note(text: string): void {
  process.stdout.write(`  ${text}\n`);
}

export function reportedFigures(): Figure[] {
  return [...figures];
}

/** The machine the figures were measured on (as the README records them). */
export function machine(): string {
  const list = cpus();
  return `${list.length} CPU(s), ${list[0]?.model?.trim() ?? 'unknown CPU'}, Node ${process.version}, ${process.platform} ${process.arch}`;
}
