/*
 * A binary min-heap of nodes by expiry time (ties broken by path so every member expires in the same
 * order). Each node remembers its slot (heapIndex) so a TTL change or a removal is O(log n).
 */
import type { V2Node } from './node.js';

function before(a: V2Node, b: V2Node): boolean {
  const ea = a.expireMs ?? Infinity;
  const eb = b.expireMs ?? Infinity;
  return ea < eb || (ea === eb && a.path < b.path);
}

export class TtlHeap {
  private items: V2Node[] = [];

  size(): number {
    return this.items.length;
  }

  top(): V2Node | undefined {
    return this.items[0];
  }

  push(n: V2Node): void {
    if (n.heapIndex !== -1) { this.update(n); return; }
    n.heapIndex = this.items.length;
    this.items.push(n);
    this.up(n.heapIndex);
  }

  /** Re-seats a node whose expireMs changed. */
  update(n: V2Node): void {
    if (n.heapIndex === -1) return;
    this.up(n.heapIndex);
    this.down(n.heapIndex);
  }

  remove(n: V2Node): void {
    const i = n.heapIndex;
    if (i === -1) return;
    const last = this.items.pop() as V2Node;
    n.heapIndex = -1;
    if (last === n) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private swap(i: number, j: number): void {
    const a = this.items[i] as V2Node;
    const b = this.items[j] as V2Node;
    this.items[i] = b; b.heapIndex = i;
    this.items[j] = a; a.heapIndex = j;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(this.items[i] as V2Node, this.items[p] as V2Node)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && before(this.items[l] as V2Node, this.items[m] as V2Node)) m = l;
      if (r < n && before(this.items[r] as V2Node, this.items[m] as V2Node)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
