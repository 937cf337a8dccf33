// A bounded ring of the last indexes of appends sent to one follower but not yet acknowledged.

export class Inflights {
  private start = 0;
  count = 0;
  private readonly buffer: number[];

  /** size: the named limit (RaftConfig.maxInflightMsgs). */
  constructor(readonly size: number) {
    this.buffer = new Array<number>(size).fill(0);
  }

  add(inflight: number): void {
    if (this.full()) throw new Error('cannot add into a full inflights');
    let next = this.start + this.count;
    if (next >= this.size) next -= this.size;
    this.buffer[next] = inflight;
    this.count++;
  }

  /** Free every inflight whose index is <= to. */
  freeLE(to: number): void {
    if (this.count === 0 || to < this.buffer[this.start]!) return;
    let idx = this.start;
    let i = 0;
    for (; i < this.count; i++) {
      if (to < this.buffer[idx]!) break;
      idx++;
      if (idx >= this.size) idx -= this.size;
    }
    this.count -= i;
    this.start = idx;
    if (this.count === 0) this.start = 0;
  }

  freeFirstOne(): void {
    if (this.count === 0) return;
    this.freeLE(this.buffer[this.start]!);
  }

  full(): boolean {
    return this.count === this.size;
  }

  reset(): void {
    this.count = 0;
    this.start = 0;
  }
}
