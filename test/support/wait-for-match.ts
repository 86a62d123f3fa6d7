/**
 * Event-driven wait for a test peer's record log (IRC lines seen, Slack API calls): resolves with the first item
 * of `items` matching `pred`, checked now and whenever the peer calls its `listeners` after recording one; past
 * `timeoutMs` rejects with `failure()`.
 */
export function waitForMatch<T>(items: readonly T[], listeners: Set<() => unknown>, pred: (item: T) => boolean, timeoutMs: number, failure: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = items.find(pred);
      if (!found) return false;
      listeners.delete(check);
      clearTimeout(timer);
      resolve(found);
      return true;
    };
    const timer = setTimeout(() => {
      listeners.delete(check);
      reject(new Error(failure()));
    }, timeoutMs);
    if (!check()) listeners.add(check);
  });
}
