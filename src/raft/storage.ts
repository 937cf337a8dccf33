// The Storage interface raft reads its stable log through, and MemoryStorage (filled by the WAL at start).
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable, invariant } from './errors.js';
import { type ConfState, type Entry, EntryType, type HardState, type Snapshot, None } from './types.js';
import { limitSize } from './util.js';

export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries [lo, hi), limited to maxSizeBytes (at least one). Throws ErrCompacted / ErrUnavailable. */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[];
  /** Term of entry i (i in [firstIndex-1, lastIndex]). Throws ErrCompacted / ErrUnavailable. */
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export function emptySnapshot(): Snapshot {
  return { data: new Uint8Array(0), metadata: { confState: emptyConfState(), index: 0, term: 0 } };
}

export function isEmptySnap(s: Snapshot | undefined): boolean {
  return !s || s.metadata.index === 0;
}

export function emptyHardState(): HardState {
  return { term: 0, vote: None, commit: 0 };
}

/**
 * In-memory Storage. ents[0] is a dummy entry holding the index and term of the last compacted entry
 * (the snapshot's), so term(firstIndex-1) is always answerable.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState();
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.EntryNormal, data: new Uint8Array(0) }];

  /**
   * @param keepData copies an entry's data before the log keeps it (the server packs entries into a
   * ByteArena: data handed to raft is often a slice of a shared buffer that would stay alive with it).
   * Default: kept as given.
   */
  constructor(private readonly keepData?: (data: Uint8Array) => Uint8Array) {}

  /** A storage with an initial configuration and no log (tests and simulations; etcd's test helper). */
  static withConfState(cs: ConfState): MemoryStorage {
    const ms = new MemoryStorage();
    ms.snap = { data: new Uint8Array(0), metadata: { confState: cs, index: 0, term: 0 } };
    return ms;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: this.snap.metadata.confState };
  }

  setHardState(st: HardState): void {
    this.hardState = { ...st };
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new ErrCompacted();
    invariant(hi <= this.lastIndex() + 1, `entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    if (this.ents.length === 1) throw new ErrUnavailable();
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSizeBytes);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new ErrCompacted();
    if (i - offset >= this.ents.length) throw new ErrUnavailable();
    return this.ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replace everything with a snapshot (a follower restoring one). Throws ErrSnapOutOfDate. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new ErrSnapOutOfDate();
    this.snap = snap;
    const { index, term } = snap.metadata;
    this.ents = [{ term, index, type: EntryType.EntryNormal, data: new Uint8Array(0) }];
  }

  /** Record a snapshot of the applied state at index i (entries are kept until compact()). */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new ErrSnapOutOfDate();
    const offset = this.ents[0]!.index;
    invariant(i <= this.lastIndex(), `snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    const confState = cs ?? this.snap.metadata.confState;
    this.snap = { data, metadata: { index: i, term: this.ents[i - offset]!.term, confState } };
    return this.snap;
  }

  /** Discard entries up to and including compactIndex. Throws ErrCompacted. */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) throw new ErrCompacted();
    invariant(compactIndex <= this.lastIndex(), `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = compactIndex - offset;
    const head: Entry = { index: this.ents[i]!.index, term: this.ents[i]!.term, type: EntryType.EntryNormal, data: new Uint8Array(0) };
    this.ents = [head, ...this.ents.slice(i + 1)];
  }

  /** Append entries, truncating any conflicting suffix. Entries must be contiguous with the log. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    if (first > entries[0]!.index) entries = entries.slice(first - entries[0]!.index);
    const offset = entries[0]!.index - this.ents[0]!.index;
    invariant(this.ents.length >= offset, `missing log entry [last: ${this.lastIndex()}, append at: ${entries[0]!.index}]`);
    this.ents.length = offset;
    const keep = this.keepData;
    if (keep) for (const e of entries) this.ents.push({ term: e.term, index: e.index, type: e.type, data: keep(e.data) });
    else for (const e of entries) this.ents.push(e);
  }
}
