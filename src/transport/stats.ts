// etcd's v2 statistics of the links (v2stats): per follower, the latency of appends sent to it and
// how many succeeded or failed (/v2/stats/leader); the append requests this member sent and received
// (/v2/stats/self). Latencies in milliseconds.

export class FollowerStats {
  current = 0;
  average = 0;
  standardDeviation = 0;
  minimum = 2 ** 63; // etcd starts its minimum at 1<<63
  maximum = 0;
  success = 0;
  fail = 0;
  private averageSquare = 0;

  succeeded(ms: number): void {
    const total = this.success * this.average;
    const totalSquare = this.success * this.averageSquare;
    this.success++;
    this.current = ms;
    if (ms > this.maximum) this.maximum = ms;
    if (ms < this.minimum) this.minimum = ms;
    this.average = (total + ms) / this.success;
    this.averageSquare = (totalSquare + ms * ms) / this.success;
    this.standardDeviation = Math.sqrt(Math.max(0, this.averageSquare - this.average * this.average));
  }

  failed(): void {
    this.fail++;
  }
}

export class LinkStats {
  sendAppendRequestCnt = 0;
  recvAppendRequestCnt = 0;
  readonly followers = new Map<bigint, FollowerStats>();

  follower(id: bigint): FollowerStats {
    let f = this.followers.get(id);
    if (!f) this.followers.set(id, (f = new FollowerStats()));
    return f;
  }
}
