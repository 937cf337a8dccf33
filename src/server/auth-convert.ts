// The auth room's values to and from the wire shapes (proto-loader objects: enums as names).
import type { KeyPermission, PermType } from '../auth/index.js';
import type { Permission } from '../pb/authpb/Permission.js';

const NAMES: PermType[] = ['READ', 'WRITE', 'READWRITE'];

/** A permission type as proto-loader hands it (a name, or a number for an unknown value). */
export function permTypeName(v: unknown): PermType {
  if (typeof v === 'string' && (NAMES as string[]).includes(v)) return v as PermType;
  if (typeof v === 'number' && NAMES[v] !== undefined) return NAMES[v]!;
  return 'READ';
}

export function permissionToPb(p: KeyPermission): Permission {
  return { permType: p.permType, key: p.key, range_end: p.rangeEnd };
}
