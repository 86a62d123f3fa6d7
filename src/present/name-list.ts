/** A list of names that may be long, cut to a few: `a, b, c and 9 more`. */
export function someOf(names: readonly string[], max: number): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
