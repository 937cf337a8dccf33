// Safety checkers, fed incrementally by the simulation as nodes persist, apply and change role.
//  - election safety: at most one leader per term
//  - leader append-only: a leader never truncates its own log
//  - log matching: (index, term) identifies an entry's data and its predecessor's term, hence the prefix
//  - leader completeness: a new leader's log holds every entry known to be committed
//  - state-machine safety: every member applies the same entry (same hash chain) at each index
import type { Entry, NodeId } from '../../src/raft/index.js';
import { entryText } from './node.js';

export class Violation extends Error {}

export class Checker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** `${index}/${term}` -> `${prevTerm}|${data}` */
  private readonly entryAt = new Map<string, string>();
  /** index -> term of the entry applied (so committed) at that index. */
  readonly committedTerm = new Map<number, number>();
  /** index -> state-machine hash after applying it. */
  private readonly hashAt = new Map<number, string>();
  /** index -> text of the entry applied there. */
  readonly textAt = new Map<number, string>();
  maxCommitted = 0;

  fail(msg: string): never {
    throw new Violation(msg);
  }

  leader(id: NodeId, term: number): void {
    const prev = this.leaderOfTerm.get(term);
    if (prev !== undefined && prev !== id) this.fail(`election safety: term ${term} has leaders ${prev} and ${id}`);
    this.leaderOfTerm.set(term, id);
  }

  /** A leader's Ready appends `ents`; its log ended at lastIndex before. */
  leaderAppend(id: NodeId, lastIndex: number, ents: Entry[]): void {
    if (ents.length > 0 && ents[0]!.index <= lastIndex) {
      this.fail(`leader append-only: leader ${id} overwrote its log at ${ents[0]!.index} (last was ${lastIndex})`);
    }
  }

  /** An entry that a node persisted, with the term of the entry before it in that node's log. */
  persisted(id: NodeId, e: Entry, prevTerm: number): void {
    const key = `${e.index}/${e.term}`;
    const val = `${prevTerm}|${entryText(e)}`;
    const prev = this.entryAt.get(key);
    if (prev === undefined) this.entryAt.set(key, val);
    else if (prev !== val) this.fail(`log matching: node ${id} has ${key} = ${val}, another node has ${prev}`);
  }

  applied(id: NodeId, e: Entry, hash: string): void {
    const ct = this.committedTerm.get(e.index);
    if (ct !== undefined && ct !== e.term) this.fail(`state-machine safety: node ${id} applied term ${e.term} at ${e.index}, others term ${ct}`);
    this.committedTerm.set(e.index, e.term);
    const text = entryText(e);
    const pt = this.textAt.get(e.index);
    if (pt !== undefined && pt !== text) this.fail(`state-machine safety: node ${id} applied "${text}" at ${e.index}, others "${pt}"`);
    this.textAt.set(e.index, text);
    this.hashState(id, e.index, hash);
    if (e.index > this.maxCommitted) this.maxCommitted = e.index;
  }

  hashState(id: NodeId, index: number, hash: string): void {
    const ph = this.hashAt.get(index);
    if (ph !== undefined && ph !== hash) this.fail(`state-machine safety: node ${id} state at ${index} differs (${hash} vs ${ph})`);
    this.hashAt.set(index, hash);
  }

  /** A new leader must hold every committed entry it has not compacted, and none may be beyond its log. */
  leaderComplete(id: NodeId, term: number, firstIndex: number, lastIndex: number, termOf: (i: number) => number): void {
    for (const [i, t] of this.committedTerm) {
      if (i < firstIndex - 1) continue; // under its snapshot (checked through the state hash)
      if (i > lastIndex) this.fail(`leader completeness: leader ${id} (term ${term}) lacks committed index ${i}`);
      const lt = termOf(i);
      if (lt !== t) this.fail(`leader completeness: leader ${id} (term ${term}) has term ${lt} at committed ${i}, want ${t}`);
    }
  }
}
