/**
 * Text from a host or a person made into one line. Chat lines are bounded (an ellipsis where cut); a Koji comment
 * line is not (the comment is cut to Koji's size as a whole) and keeps C1 characters.
 */

/** Control characters (C0 and C1) out, one line, at most `max` characters: for chat and status views. */
export function boundedLine(text: string, max = 300): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ').replace(/[\x00-\x1f\x7f-\x9f]/g, '').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** C0 control characters and DEL out, one line, not bounded: for a Koji comment. */
export function commentLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(/[\x00-\x1f\x7f]/g, '').trim();
}
