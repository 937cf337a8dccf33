// Domain outcomes of the lessor as coded values (returned, never thrown). The API edge maps each code
// to etcd's text and gRPC status (see ../shared/etcd-reference.md §1.3):
//   lease-not-found     → "etcdserver: requested lease not found"  NotFound(5)
//   lease-exists        → "etcdserver: lease already exists"       FailedPrecondition(9)
//   lease-ttl-too-large → "etcdserver: too large lease TTL"        OutOfRange(11)
//   not-primary         → "etcdserver: not primary" (etcd's ErrNotPrimary; the server retries/forwards)
//   lease-expired       → renew of a lease whose expiry passed but whose revoke has not applied yet:
//                         etcd blocks such a renew until the revoke applies (→ lease-not-found) or the
//                         member stops leading (→ not-primary); the server does that waiting.

export type LeaseErrorCode = 'lease-not-found' | 'lease-exists' | 'lease-ttl-too-large' | 'not-primary' | 'lease-expired';

export class LeaseError {
  private constructor(readonly code: LeaseErrorCode) {}

  static readonly notFound = new LeaseError('lease-not-found');
  static readonly exists = new LeaseError('lease-exists');
  static readonly ttlTooLarge = new LeaseError('lease-ttl-too-large');
  static readonly notPrimary = new LeaseError('not-primary');
  static readonly expired = new LeaseError('lease-expired');
}

export function isLeaseError(x: unknown): x is LeaseError {
  return x instanceof LeaseError;
}
