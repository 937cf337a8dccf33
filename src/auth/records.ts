/*
 * The auth store's records as etcd keeps them in its backend: authpb.User and authpb.Role, written as
 * gogoproto marshals them (fields in number order, proto3 zero values left out, a User's options
 * always present since etcd's UserAdd always sets them), so the buckets are byte-for-byte etcd's.
 *
 *   User{name "root", password "$2a$10$…", roles ["root"], options {}}
 *     0a 04 72 6f 6f 74  12 3c 24 32 61 …  1a 04 72 6f 6f 74  22 00
 *   Role{name "r", keyPermission [{permType READWRITE, key "a", range_end "b"}]}
 *     0a 01 72  12 08 08 02 12 01 61 1a 01 62
 */
import protobuf from 'protobufjs';
import type { KeyPermission, PermType } from './permissions.js';

export interface User {
  name: string;
  /** The bcrypt hash; empty for a user added with no password. */
  password: Buffer;
  /** Sorted, as etcd keeps them. */
  roles: string[];
  /** undefined: a record without options (written by an etcd before 3.4). */
  noPassword: boolean | undefined;
}

export interface Role {
  name: string;
  /** Sorted by key, as etcd keeps them. */
  keyPermission: KeyPermission[];
}

const PERM_TYPES: PermType[] = ['READ', 'WRITE', 'READWRITE'];

export function permTypeNumber(t: PermType): number {
  return PERM_TYPES.indexOf(t);
}

export function permTypeOf(n: number): PermType {
  const t = PERM_TYPES[n];
  if (t === undefined) throw new Error(`auth: unknown permission type ${n}`);
  return t;
}

function bytesField(w: protobuf.Writer, field: number, b: Uint8Array): void {
  if (b.length > 0) w.uint32((field << 3) | 2).bytes(b);
}

export function encodeUser(u: User): Buffer {
  const w = protobuf.Writer.create();
  bytesField(w, 1, Buffer.from(u.name));
  bytesField(w, 2, u.password);
  for (const r of u.roles) w.uint32((3 << 3) | 2).string(r);
  if (u.noPassword !== undefined) {
    w.uint32((4 << 3) | 2).fork();
    if (u.noPassword) w.uint32(1 << 3).bool(true);
    w.ldelim();
  }
  return Buffer.from(w.finish());
}

export function decodeUser(b: Uint8Array): User {
  const r = protobuf.Reader.create(b);
  const u: User = { name: '', password: Buffer.alloc(0), roles: [], noPassword: undefined };
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: u.name = Buffer.from(r.bytes()).toString(); break;
      case 2: u.password = Buffer.from(r.bytes()); break;
      case 3: u.roles.push(r.string()); break;
      case 4: u.noPassword = decodeOptions(r.bytes()); break;
      default: r.skipType(tag & 7);
    }
  }
  return u;
}

function decodeOptions(b: Uint8Array): boolean {
  const r = protobuf.Reader.create(b);
  let noPassword = false;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) noPassword = r.bool();
    else r.skipType(tag & 7);
  }
  return noPassword;
}

export function encodeRole(role: Role): Buffer {
  const w = protobuf.Writer.create();
  bytesField(w, 1, Buffer.from(role.name));
  for (const p of role.keyPermission) {
    w.uint32((2 << 3) | 2).fork();
    const t = permTypeNumber(p.permType);
    if (t !== 0) w.uint32(1 << 3).int32(t);
    bytesField(w, 2, p.key);
    bytesField(w, 3, p.rangeEnd);
    w.ldelim();
  }
  return Buffer.from(w.finish());
}

export function decodeRole(b: Uint8Array): Role {
  const r = protobuf.Reader.create(b);
  const role: Role = { name: '', keyPermission: [] };
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: role.name = Buffer.from(r.bytes()).toString(); break;
      case 2: role.keyPermission.push(decodePermission(r.bytes())); break;
      default: r.skipType(tag & 7);
    }
  }
  return role;
}

function decodePermission(b: Uint8Array): KeyPermission {
  const r = protobuf.Reader.create(b);
  const p: KeyPermission = { permType: 'READ', key: Buffer.alloc(0), rangeEnd: Buffer.alloc(0) };
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: p.permType = permTypeOf(r.int32()); break;
      case 2: p.key = Buffer.from(r.bytes()); break;
      case 3: p.rangeEnd = Buffer.from(r.bytes()); break;
      default: r.skipType(tag & 7);
    }
  }
  return p;
}
