// Alarms (NOSPACE, CORRUPT) per member: replicated state, applied from Alarm requests and persisted
// in the backend's alarm bucket (key: 8-byte member id + 1-byte alarm type, empty value).
import { Bucket, type Backend } from '../backend/index.js';

export type AlarmType = 'NONE' | 'NOSPACE' | 'CORRUPT';
const CODES: Record<AlarmType, number> = { NONE: 0, NOSPACE: 1, CORRUPT: 2 };
const NAMES: AlarmType[] = ['NONE', 'NOSPACE', 'CORRUPT'];

export interface Alarm {
  memberId: bigint;
  alarm: AlarmType;
}

function alarmKey(a: Alarm): Buffer {
  const k = Buffer.alloc(9);
  k.writeBigUInt64BE(a.memberId);
  k[8] = CODES[a.alarm];
  return k;
}

export class AlarmStore {
  private readonly active = new Map<string, Alarm>();

  constructor(private readonly backend: Backend) {}

  /** Reads the alarms the backend holds (at start-up, and again after a snapshot install). */
  async load(): Promise<void> {
    this.active.clear();
    for await (const [k] of this.backend.iterate(Bucket.alarm)) {
      const a: Alarm = { memberId: k.readBigUInt64BE(0), alarm: NAMES[k[8]!] ?? 'NONE' };
      this.active.set(alarmKey(a).toString('hex'), a);
    }
  }

  activate(a: Alarm): boolean {
    const k = alarmKey(a);
    if (this.active.has(k.toString('hex'))) return false;
    this.active.set(k.toString('hex'), a);
    this.backend.put(Bucket.alarm, k, Buffer.alloc(0));
    return true;
  }

  deactivate(a: Alarm): boolean {
    const k = alarmKey(a);
    if (!this.active.delete(k.toString('hex'))) return false;
    this.backend.del(Bucket.alarm, k);
    return true;
  }

  /** Active alarms, optionally of one member and/or type (0n / 'NONE' = any). */
  list(memberId = 0n, alarm: AlarmType = 'NONE'): Alarm[] {
    return [...this.active.values()].filter((a) => (memberId === 0n || a.memberId === memberId) && (alarm === 'NONE' || a.alarm === alarm));
  }

  /** Whether any member has `alarm` raised (asked on every write: no array is built). */
  has(alarm: AlarmType): boolean {
    if (this.active.size === 0) return false;
    for (const a of this.active.values()) if (a.alarm === alarm) return true;
    return false;
  }
}
