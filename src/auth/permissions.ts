/*
 * A user's merged key-range permissions (etcd's unifiedRangePermissions): the READ and WRITE
 * intervals of every role the user holds, and the two questions etcd asks of them.
 *
 * Intervals are half-open [begin, end) over bytes, with an EMPTY end meaning "past every key"
 * (etcd's BytesAffineComparable). A permission on one key k is the point [k, k+"\x00"); a permission
 * whose range_end is "\x00" (etcdctl's --from-key) is [k, ∞).
 *   - a single-key request (no range_end) is permitted when some interval contains the key;
 *   - a range request [key, range_end) is permitted when the intervals that overlap it, taken in
 *     order of their begin, leave no gap and cover it whole (etcd's IntervalTree.Contains).
 */
import { compareBytes } from '../pkg/bytes.js';

export type PermType = 'READ' | 'WRITE' | 'READWRITE';

export interface KeyPermission {
  permType: PermType;
  key: Buffer;
  rangeEnd: Buffer;
}

interface Interval {
  begin: Buffer;
  /** Empty: unbounded. */
  end: Buffer;
}

/** etcd's BytesAffineComparable: an empty value is greater than every other. */
function affine(a: Buffer, b: Buffer): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  return compareBytes(a, b);
}

function point(key: Buffer): Interval {
  return { begin: key, end: Buffer.concat([key, Buffer.from([0])]) };
}

function intervalOf(p: KeyPermission): Interval {
  if (p.rangeEnd.length === 0) return point(p.key);
  const fromKey = p.rangeEnd.length === 1 && p.rangeEnd[0] === 0;
  return { begin: p.key, end: fromKey ? Buffer.alloc(0) : p.rangeEnd };
}

function overlaps(a: Interval, b: Interval): boolean {
  return affine(a.begin, b.end) < 0 && affine(b.begin, a.end) < 0;
}

class IntervalSet {
  private readonly items: Interval[] = [];

  add(i: Interval): void {
    this.items.push(i);
  }

  /** Sorted by begin, then end, once every interval is in. */
  seal(): void {
    this.items.sort((a, b) => affine(a.begin, b.begin) || affine(a.end, b.end));
  }

  intersects(i: Interval): boolean {
    return this.items.some((x) => overlaps(x, i));
  }

  contains(i: Interval): boolean {
    let minBegin: Buffer | undefined;
    let maxEnd: Buffer | undefined;
    for (const x of this.items) {
      if (!overlaps(x, i)) continue;
      if (minBegin === undefined || maxEnd === undefined) {
        minBegin = x.begin;
        maxEnd = x.end;
        continue;
      }
      if (affine(maxEnd, x.begin) < 0) return false;
      if (affine(x.end, maxEnd) > 0) maxEnd = x.end;
    }
    return minBegin !== undefined && maxEnd !== undefined && affine(maxEnd, i.end) >= 0 && affine(minBegin, i.begin) <= 0;
  }
}

export class RangePermissions {
  private readonly read = new IntervalSet();
  private readonly write = new IntervalSet();

  constructor(perms: Iterable<KeyPermission>) {
    for (const p of perms) {
      const i = intervalOf(p);
      if (p.permType !== 'WRITE') this.read.add(i);
      if (p.permType !== 'READ') this.write.add(i);
    }
    this.read.seal();
    this.write.seal();
  }

  /** etcd's isRangeOpPermitted for a READ or WRITE request on key (and range_end, when not empty). */
  permits(type: 'READ' | 'WRITE', key: Buffer, rangeEnd: Buffer | undefined): boolean {
    const set = type === 'READ' ? this.read : this.write;
    if (rangeEnd === undefined || rangeEnd.length === 0) return set.intersects(point(key));
    const fromKey = rangeEnd.length === 1 && rangeEnd[0] === 0;
    return set.contains({ begin: key, end: fromKey ? Buffer.alloc(0) : rangeEnd });
  }
}
