/** "Did you mean": the closest of some names (hosts, groups, commands) to what someone typed, or nothing when none is close. */

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** Folds what was typed for comparison only (never for matching): width/compat forms, case. */
function fold(s: string): string {
  return s.normalize('NFKC').toLowerCase();
}

/** The closest name within a third of its length (at least 2 edits), or undefined. */
export function closest(typed: string, names: Iterable<string>): string | undefined {
  const t = fold(typed).slice(0, 256);
  let best: string | undefined;
  let bestD = Infinity;
  for (const name of names) {
    const d = editDistance(t, fold(name));
    if (d < bestD) {
      best = name;
      bestD = d;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(best.length / 3));
  return bestD <= limit ? best : undefined;
}

export function didYouMean(typed: string, names: Iterable<string>, prefix = ''): string {
  const c = closest(typed, names);
  return c ? ` — did you mean ${prefix}${c}?` : '';
}
