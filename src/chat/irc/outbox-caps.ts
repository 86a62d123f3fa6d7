/**
 * The IRC outbox's caps: replies (anyone can ask for them) take what room is left for their target and in total,
 * urgent lines what is left under their own cap; what does not fit is dropped, and one line per target says how
 * many lines were.
 */
import { sameName } from './casefold';
import type { OutboxLine } from './outbox';

export const droppedText = (n: number, what: string) => `… ${n} more ${what}${n === 1 ? '' : 's'} dropped: too much output waiting for IRC`;

/**
 * Past the urgent cap: the lines are dropped and counted on the target's "… N more notice lines dropped" line
 * (added when there is none yet). Returns how many were dropped.
 */
export function dropUrgent(urgent: OutboxLine[], lines: OutboxLine[]): number {
  const { target } = lines[0]!;
  const marker = urgent.findLast((l) => l.dropped !== undefined && sameName(l.target, target));
  if (marker) {
    marker.dropped! += lines.length;
    marker.text = droppedText(marker.dropped!, 'notice line');
  } else {
    urgent.push({ target, text: droppedText(lines.length, 'notice line'), urgent: true, dropped: lines.length });
  }
  return lines.length;
}

/**
 * Adds a reply's lines to `pending` within what room is left for its target (perTarget) and in total (total);
 * what does not fit is dropped, and the target's last waiting reply line becomes (or is) "… N more lines
 * dropped". Returns how many lines were dropped.
 */
export function pushCappedReply(pending: OutboxLine[], lines: OutboxLine[], perTarget: number, total: number): number {
  const target = lines[0]!.target;
  let mine = 0;
  let all = 0;
  let last: OutboxLine | undefined;
  for (const l of pending) {
    if (!l.reply) continue;
    all += 1;
    if (sameName(l.target, target)) {
      mine += 1;
      last = l;
    }
  }
  const room = Math.min(perTarget - mine, total - all);
  if (lines.length <= room) {
    pending.push(...lines);
    return 0;
  }
  // Keep what fits and one line to say how much was dropped.
  const keep = Math.max(0, room - 1);
  let lost = lines.length - keep;
  let dropped = lost;
  pending.push(...lines.slice(0, keep));
  if (keep > 0) last = lines[keep - 1];
  if (last?.dropped !== undefined) {
    last.dropped += lost;
    last.text = droppedText(last.dropped, 'line');
  } else if (room >= 1) {
    pending.push({ target, text: droppedText(lost, 'line'), reply: true, dropped: lost });
  } else if (last) {
    // No room left: the target's last waiting reply line gives way to the count.
    lost += 1;
    dropped += 1;
    last.dropped = lost;
    last.text = droppedText(lost, 'line');
    last.progress = undefined;
  }
  // else: the total is taken by other targets' replies, and this target has none waiting: dropped, counted.
  return dropped;
}
