/*
 * The wait registry: a proposer registers the id of its proposal and receives a promise; the apply loop
 * triggers the id with the result once the entry is applied (or the server fails it on shutdown).
 * Owned by the server; ids are unique per member (see idgen.ts).
 */

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export class WaitRegistry<T = unknown> {
  private readonly waiters = new Map<bigint, Waiter<T>>();

  register(id: bigint): Promise<T> {
    if (this.waiters.has(id)) throw new Error(`wait: duplicate id ${id}`);
    return new Promise<T>((resolve, reject) => this.waiters.set(id, { resolve, reject }));
  }

  isRegistered(id: bigint): boolean {
    return this.waiters.has(id);
  }

  trigger(id: bigint, value: T): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    w.resolve(value);
  }

  fail(id: bigint, err: unknown): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    w.reject(err);
  }

  failAll(err: unknown): void {
    for (const [id, w] of this.waiters) {
      this.waiters.delete(id);
      w.reject(err);
    }
  }

  get size(): number {
    return this.waiters.size;
  }
}
