/** Polls `cond` every 20 ms until it holds; past `timeoutMs` rejects naming `what` (and `context()`, if given). */
export function until(cond: () => boolean, what: string, timeoutMs: number, context?: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() > end) return reject(new Error(`timed out waiting for ${what}${context ? `; ${context()}` : ''}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}
