/**
 * Runs tasks one after another per key (tasks of different keys run side by side). A key is forgotten once its
 * last task has settled, so the map holds only keys with work under way. A task runs whether the one before it
 * succeeded or failed.
 */
export class SerialByKey {
  private readonly chains = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const next = (this.chains.get(key) ?? Promise.resolve()).then(task, task);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return next;
  }

  /** Keys with tasks under way. */
  get size(): number {
    return this.chains.size;
  }

  /** Resolves once every task started so far has settled. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }
}
