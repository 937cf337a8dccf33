/*
 * The membership of one raft cluster as the state machine sees it: applied from conf-change entries
 * (add, remove, promote) and from member-attribute publications (name, client URLs), in log order, on
 * every member alike. Persistence is delegated to a MembershipStore the server adapts to the backend
 * (written in the same batch as the entry that changed it).
 */
import { idToHex } from './ids.js';

export interface Member {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface MembershipStore {
  putMember(member: Member): void;
  deleteMember(id: bigint): void;
  putRemoved(id: bigint): void;
}

export class RaftCluster {
  private readonly byId = new Map<bigint, Member>();
  private readonly removed = new Set<bigint>();

  constructor(
    readonly clusterId: bigint,
    readonly localId: bigint,
    private readonly store?: MembershipStore,
  ) {}

  /** Replaces the state with what the store holds (start-up, snapshot install); writes nothing. */
  recover(members: Member[], removed: bigint[]): void {
    this.byId.clear();
    this.removed.clear();
    for (const m of members) this.byId.set(m.id, { ...m });
    for (const id of removed) this.removed.add(id);
  }

  /** How many members (cheaper than members().length: no copy, no sort). */
  get size(): number {
    return this.byId.size;
  }

  members(): Member[] {
    return [...this.byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  member(id: bigint): Member | undefined {
    return this.byId.get(id);
  }

  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  addMember(m: Member): void {
    this.byId.set(m.id, { ...m });
    this.store?.putMember(m);
  }

  removeMember(id: bigint): void {
    this.byId.delete(id);
    this.removed.add(id);
    this.store?.deleteMember(id);
    this.store?.putRemoved(id);
  }

  promote(id: bigint): void {
    const m = this.byId.get(id);
    if (!m) return;
    m.isLearner = false;
    this.store?.putMember(m);
  }

  updateAttributes(id: bigint, name: string, clientURLs: string[]): void {
    const m = this.byId.get(id);
    if (!m) return;
    m.name = name;
    m.clientURLs = [...clientURLs];
    this.store?.putMember(m);
  }

  /** etcd's UpdateRaftAttributes: the peer URLs and the learner flag, as an UpdateNode context gives them. */
  updateRaftAttributes(id: bigint, peerURLs: string[], isLearner: boolean): void {
    const m = this.byId.get(id);
    if (!m) return;
    m.peerURLs = [...peerURLs];
    m.isLearner = isLearner;
    this.store?.putMember(m);
  }
}

/** JSON for persisting a member (ids as hex), stable across versions. */
export function encodeMember(m: Member): Uint8Array {
  return Buffer.from(JSON.stringify({ ...m, id: idToHex(m.id) }));
}

export function decodeMember(data: Uint8Array): Member {
  const o = JSON.parse(Buffer.from(data).toString('utf8')) as Omit<Member, 'id'> & { id: string };
  return { ...o, id: BigInt(`0x${o.id}`) };
}
