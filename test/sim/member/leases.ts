/*
 * Leases in the whole-member simulation: clients grant leases (TTL 2-3 s, the minimum here being 2),
 * put keys under them (keys 'l0'..'l3', apart from the registers of history.ts), keep them alive at
 * any member (a follower forwards the renewal to the leader's peer URL, POST /leases, over the
 * simulated network) and sometimes revoke them; the rest expire on the simulated clock, revoked by
 * the leader's housekeeping through raft. Checks:
 *  - every member that applies a lease's revocation applies it after the same revision with the same
 *    number of keys (so its keys go at the same revision everywhere);
 *  - no lease expires before its time: a revocation nobody asked for is applied no earlier than the
 *    TTL after the start of the last acknowledged grant or keep-alive of it;
 *  - once every lease has had time to expire, no member holds a lease or a key under one.
 */
import type { LeaseGrantRequest__Output } from '../../../src/pb/etcdserverpb/LeaseGrantRequest.js';
import type { LeaseKeepAliveRequest__Output } from '../../../src/pb/etcdserverpb/LeaseKeepAliveRequest.js';
import type { LeaseRevokeRequest__Output } from '../../../src/pb/etcdserverpb/LeaseRevokeRequest.js';
import type { PutRequest__Output } from '../../../src/pb/etcdserverpb/PutRequest.js';
import type { Rng } from '../rng.js';
import type { SimMember } from './member.js';

export interface LeaseDeps {
  rng: Rng;
  now(): number;
  log(line: string): void;
  stats: Record<string, number>;
  fail(e: string): void;
}

interface Held {
  id: bigint;
  /** No revocation by expiry before this (virtual ms). */
  validUntil: number;
  revokeAsked: boolean;
}

const LEASE_KEYS = ['l0', 'l1', 'l2', 'l3'];

export class LeaseLoad {
  private readonly held = new Map<bigint, Held>();
  /** lease -> the revision it was revoked after and how many keys it took, as the first member applied it. */
  private readonly revoked = new Map<bigint, string>();

  constructor(private readonly d: LeaseDeps) {}

  /** One lease operation by a client of member m. */
  op(m: SimMember): void {
    const { rng, stats, log } = this.d;
    const kv = m.kv!;
    const inc = m.incarnation;
    const start = this.d.now();
    const mine = (): boolean => inc === m.incarnation;
    const ids = [...this.held.keys()];
    const r = rng.next();
    if (r < 0.3 || ids.length === 0) {
      if (ids.filter((id) => !this.revoked.has(id)).length >= 4) return;
      stats.leaseGrants!++;
      const ttl = rng.int(2, 3);
      kv.leaseGrant({ ID: '0', TTL: String(ttl) } as unknown as LeaseGrantRequest__Output).then(
        (res) => {
          if (!mine()) return;
          const id = BigInt(res.ID as string);
          stats.leaseGrantsAcked!++;
          this.held.set(id, { id, validUntil: start + Number(res.TTL) * 1000, revokeAsked: false });
          log(`lease ${id.toString(16)} granted at ${m.name}, ttl ${res.TTL}`);
        },
        () => undefined,
      );
      return;
    }
    const h = this.held.get(rng.pick(ids))!;
    if (r < 0.6) {
      stats.leasePuts!++;
      const req = { key: Buffer.from(rng.pick(LEASE_KEYS)), value: Buffer.from(`x${start}`), lease: h.id.toString(), prev_kv: false, ignore_value: false, ignore_lease: false };
      kv.put(req as unknown as PutRequest__Output).then(() => void (mine() && stats.leasePutsAcked!++), () => undefined);
    } else if (r < 0.95) {
      stats.keepAlives!++;
      kv.leaseKeepAlive({ ID: h.id.toString() } as unknown as LeaseKeepAliveRequest__Output).then(
        (res) => {
          if (!mine()) return;
          stats.keepAlivesAcked!++;
          const ttl = Number(res.TTL);
          if (ttl > 0) h.validUntil = Math.max(h.validUntil, start + ttl * 1000);
        },
        () => undefined,
      );
    } else {
      stats.leaseRevokes!++;
      h.revokeAsked = true;
      log(`revoke lease ${h.id.toString(16)} at ${m.name}`);
      kv.leaseRevoke({ ID: h.id.toString() } as unknown as LeaseRevokeRequest__Output).then(() => void (mine() && stats.leaseRevokesAcked!++), () => undefined);
    }
  }

  /** A member applied a lease's revocation: after revision `rev`, taking `keys` keys. */
  onRevoke(member: string, id: bigint, rev: number, keys: number): void {
    const d = `${rev}:${keys}`;
    const had = this.revoked.get(id);
    if (had === undefined) {
      this.revoked.set(id, d);
      const h = this.held.get(id);
      const now = this.d.now();
      if (h && !h.revokeAsked && now < h.validUntil) this.d.fail(`lease ${id.toString(16)} expired early at ${member}: revoked at ${now}, valid until ${h.validUntil}`);
    } else if (had !== d) this.d.fail(`lease ${id.toString(16)} revoked at ${member} after rev:keys ${d}, elsewhere after ${had}`);
  }

  /** The virtual time by which every lease acknowledged so far should have expired (its TTL, and a new leader's extension). */
  allExpiredBy(): number {
    let t = 0;
    for (const h of this.held.values()) t = Math.max(t, h.validUntil);
    return t;
  }

  /** Whether some member still holds a lease. */
  anyLeft(members: SimMember[]): boolean {
    return members.some((m) => m.server!.lessor.size > 0);
  }

  /** Once every lease had time to expire: no member holds a lease or a key under one. */
  check(members: SimMember[]): void {
    for (const m of members) {
      const s = m.server!;
      if (s.lessor.size > 0) this.d.fail(`${m.name} still holds leases ${s.lessor.leases().map((l) => l.id.toString(16)).join(',')} after they all expired`);
      const r = s.kv.range(Buffer.from('l'), Buffer.from('m'));
      if (r.kvs.length > 0) this.d.fail(`${m.name} still has leased keys ${r.kvs.map((kv) => Buffer.from(kv.key).toString()).join(',')} after every lease expired`);
    }
  }
}
