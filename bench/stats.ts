/** Order statistics for benchmark samples (nearest-rank percentiles, as latency figures are usually given). */

export function percentile(samples: readonly number[], p: number): number {
  if (!samples.length) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(samples: readonly number[]): number {
  if (!samples.length) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function describeSamples(samples: readonly number[], digits = 1): string {
  if (!samples.length) return 'no samples';
  const f = (v: number) => v.toFixed(digits);
  return `n=${samples.length} min ${f(Math.min(...samples))} p50 ${f(percentile(samples, 50))} p90 ${f(percentile(samples, 90))} max ${f(Math.max(...samples))}`;
}
