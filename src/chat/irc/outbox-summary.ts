/**
 * The IRC outbox's backlog summaries: a room's waiting progress lines folded into a few lines with each host's
 * latest state, in place of the first of them; failure, approval and other lines stay verbatim and in order.
 */
import { sameName } from './casefold';
import type { OutboxLine } from './outbox';

type Split = (text: string, target: string) => string[];

/** The waiting lines with every room's progress folded; `folded`: how many progress lines went into summaries. */
export function foldAll(pending: OutboxLine[], split: Split): { pending: OutboxLine[]; folded: number } {
  const targets = [...new Set(pending.filter((l) => l.progress || l.summary).map((l) => l.target.toLowerCase()))];
  let folded = 0;
  for (const t of targets) {
    const r = foldTarget(pending, t, split);
    if (!r) continue;
    pending = r.pending;
    folded += r.folded;
  }
  return { pending, folded };
}

/**
 * Folds a target's waiting progress and summary lines into one summary, in place of the first of them (when
 * there are two or more). `latest`: a host's state from an urgent line that went ahead; the summary is then
 * rewritten with it even when it is alone. Undefined when there is nothing to fold.
 */
export function foldTarget(pending: OutboxLine[], t: string, split: Split, latest?: { host: string; state: string }): { pending: OutboxLine[]; folded: number } | undefined {
  const foldable = pending.filter((l) => sameName(l.target, t) && (l.progress || l.summary));
  if (!foldable.length || (latest === undefined && foldable.length < 2)) return undefined;
  const { states, updates } = mergedStates(foldable, latest);
  const folded = foldable.filter((l) => l.progress).length;
  const target = foldable[0]!.target;
  // In place of the first folded line (continuation lines of an older summary are folded too).
  const at = pending.indexOf(foldable[0]!);
  const rest = pending.filter((l) => !foldable.includes(l));
  const text = `progress, ${updates} updates summarised (latest per host, ${states.size} hosts): ${[...states]
    .map(([host, state]) => `${host} ${state}`)
    .join(' | ')}`;
  const lines: OutboxLine[] = split(text, target).map((piece) => ({ target, text: piece, summary: { states: new Map(), updates: 0 } }));
  // The whole summary is carried by its first line; the others only continue the text.
  lines[0]!.summary = { states, updates };
  rest.splice(at, 0, ...lines);
  return { pending: rest, folded };
}

/** Each host's latest state over the lines (a host moves to the end when it changes), and how many updates. */
function mergedStates(foldable: OutboxLine[], latest?: { host: string; state: string }): { states: Map<string, string>; updates: number } {
  const states = new Map<string, string>();
  let updates = 0;
  for (const l of foldable) {
    if (l.summary) {
      for (const [host, state] of l.summary.states) {
        states.delete(host);
        states.set(host, state);
      }
      updates += l.summary.updates;
    } else if (l.progress) {
      states.delete(l.progress.host);
      states.set(l.progress.host, l.progress.state);
      updates += 1;
    }
  }
  if (latest) {
    states.delete(latest.host);
    states.set(latest.host, latest.state);
  }
  return { states, updates };
}
