/*
 * Unique 64-bit request ids, as etcd's id generator lays them out:
 *   | member id low 16 bits | start time ms low 40 bits | counter 8 bits |  (the time+counter part
 * simply increments). Unique per member across restarts as long as the clock moves forward between
 * restarts by more than the ids used, which etcd accepts as well.
 */

const MASK_40 = (1n << 40n) - 1n;
const MASK_48 = (1n << 48n) - 1n;

export class IdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  constructor(memberId: bigint, nowMs: number) {
    this.prefix = (memberId & 0xffffn) << 48n;
    this.suffix = (BigInt(nowMs) & MASK_40) << 8n;
  }

  next(): bigint {
    this.suffix = (this.suffix + 1n) & MASK_48;
    return this.prefix | this.suffix;
  }
}
