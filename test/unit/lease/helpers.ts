import { type LeaseStore, Lessor, type LessorOptions } from '../../../src/lease/index.js';

/** A LeaseStore over a Map, recording every call. */
export class MemoryLeaseStore implements LeaseStore {
  readonly data = new Map<bigint, Uint8Array>();
  readonly log: string[] = [];
  put(id: bigint, value: Uint8Array): void {
    this.data.set(id, value);
    this.log.push(`put ${id}`);
  }
  delete(id: bigint): void {
    this.data.delete(id);
    this.log.push(`delete ${id}`);
  }
  loadAll(): Iterable<[bigint, Uint8Array]> {
    return [...this.data.entries()];
  }
}

export const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');
export const str = (keys: Uint8Array[]): string[] => keys.map((k) => Buffer.from(k).toString('latin1'));

export function newLessor(opts: Partial<LessorOptions> = {}): { lessor: Lessor; store: MemoryLeaseStore } {
  const store = new MemoryLeaseStore();
  return { lessor: new Lessor({ store, ...opts }), store };
}
