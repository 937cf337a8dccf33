// Picking the id of a LeaseGrant that asked for ID 0. The id is chosen by the member that receives the
// request, BEFORE proposing, so that every member applies the same id. etcd 3.4 takes its request id
// generator's next value with the sign bit cleared (never 0); we do the same from an injected source
// (the server passes its IdGenerator, a simulation passes a seeded rng) and also skip ids in use.
// A pick can still collide with a grant already in flight: apply then answers lease-exists, as etcd.

/** How many candidates pickLeaseId tries before giving up (a broken source, not bad luck). */
export const LEASE_ID_PICK_ATTEMPTS_MAX = 64;

const INT63_MASK = (1n << 63n) - 1n;

export function pickLeaseId(next: () => bigint, inUse: (id: bigint) => boolean): bigint {
  for (let i = 0; i < LEASE_ID_PICK_ATTEMPTS_MAX; i++) {
    const id = next() & INT63_MASK;
    if (id !== 0n && !inUse(id)) return id;
  }
  throw new Error(`lease: no free lease id after ${LEASE_ID_PICK_ATTEMPTS_MAX} candidates`);
}
