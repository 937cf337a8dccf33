// Adapters from the backend to the stores of the lease and membership rooms (same pending batch as
// the entry being applied), and the loading of their state at start-up.
import { Bucket, type Backend } from '../backend/index.js';
import { leaseIdFromKey, leaseKey, type LeaseStore } from '../lease/index.js';
import { decodeMember, encodeMember, type Member, type MembershipStore } from '../membership/index.js';

function idKey(id: bigint): Buffer {
  const k = Buffer.alloc(8);
  k.writeBigUInt64BE(id);
  return k;
}

/** The lessor reads its records once, at recover(); they are loaded before it is called. */
export async function backendLeaseStore(backend: Backend): Promise<LeaseStore> {
  const records: Array<[bigint, Uint8Array]> = [];
  for await (const [k, v] of backend.iterate(Bucket.lease)) records.push([leaseIdFromKey(k), v]);
  return {
    put: (id, value) => backend.put(Bucket.lease, leaseKey(id), Buffer.from(value)),
    delete: (id) => backend.del(Bucket.lease, leaseKey(id)),
    loadAll: () => records.splice(0),
  };
}

export function backendMembershipStore(backend: Backend): MembershipStore {
  return {
    putMember: (m) => backend.put(Bucket.members, idKey(m.id), Buffer.from(encodeMember(m))),
    deleteMember: (id) => backend.del(Bucket.members, idKey(id)),
    putRemoved: (id) => backend.put(Bucket.membersRemoved, idKey(id), Buffer.alloc(0)),
  };
}

export async function loadMembership(backend: Backend): Promise<{ members: Member[]; removed: bigint[]; clusterVersion: string }> {
  const members: Member[] = [];
  const removed: bigint[] = [];
  for await (const [, v] of backend.iterate(Bucket.members)) members.push(decodeMember(v));
  for await (const [k] of backend.iterate(Bucket.membersRemoved)) removed.push(k.readBigUInt64BE(0));
  const version = backend.get(Bucket.cluster, CLUSTER_VERSION_KEY);
  return { members, removed, clusterVersion: version ? version.toString() : '' };
}

export const CLUSTER_VERSION_KEY = Buffer.from('clusterVersion');
