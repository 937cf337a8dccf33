/**
 * proto3 zero values as Go's (gogoproto) encoders treat them: never on the wire. protobufjs writes
 * every field an object sets, zeros included (`{ error: '' }` → `0x22 0x00`); `dropZeros` deletes
 * them from a message instance made by `Type.fromObject`, recursively, keeping oneof members (their
 * presence is the value). Used where our bytes or sizes must be etcd's.
 */
import protobuf from 'protobufjs';

function isZero(v: unknown): boolean {
  if (v === 0 || v === false || v === '') return true;
  if (v instanceof Uint8Array) return v.length === 0;
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number };
    return l.low === 0 && l.high === 0;
  }
  return false;
}

/** Deletes the zero scalars of `msg` (a protobufjs message instance of `type`) and of its sub-messages. */
export function dropZeros(type: protobuf.Type, msg: Record<string, unknown>): void {
  for (const f of type.fieldsArray) {
    const v = msg[f.name];
    if (v == null || !Object.prototype.hasOwnProperty.call(msg, f.name)) continue;
    const sub = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    if (f.repeated) {
      if (sub) for (const m of v as Record<string, unknown>[]) dropZeros(sub, m);
    } else if (f.map) {
      if (sub) for (const m of Object.values(v as Record<string, Record<string, unknown>>)) dropZeros(sub, m);
    } else if (sub) {
      dropZeros(sub, v as Record<string, unknown>);
    } else if (!f.partOf && isZero(v)) {
      delete msg[f.name];
    }
  }
}

/** `value` encoded as `type` without its zero values (the bytes Go would marshal). */
export function encodeWithoutZeros(type: protobuf.Type, value: object): Uint8Array {
  const msg = type.fromObject(value as Record<string, unknown>);
  dropZeros(type, msg as unknown as Record<string, unknown>);
  return type.encode(msg).finish();
}
