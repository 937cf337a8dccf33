// The MVCC vocabulary shared by the store, transactions and watch (shapes of etcd's mvccpb and
// etcdserverpb KV messages, with etcd's field meanings).

export interface KeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  /** 1 at creation, +1 per modification; a deletion resets it (the key's next put has version 1). */
  version: number;
  value: Buffer;
  /** 0n = no lease. */
  lease: bigint;
}

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';

export interface RangeOptions {
  /** 0/undefined = no limit. */
  limit?: number;
  /** <= 0 or undefined = current revision. */
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** Number of keys in the range at the revision, unaffected by limit and min/max filters. */
  count: number;
  /** More keys than `limit` passed the filters. */
  more: boolean;
  /** The store's revision (the header revision), not the requested one. */
  revision: number;
}

export interface PutOptions {
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface PutResult {
  revision: number;
  prevKv?: KeyValue;
}

export interface DeleteRangeResult {
  deleted: number;
  prevKvs: KeyValue[];
  revision: number;
}

export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';
export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';

export interface Compare {
  key: Buffer;
  /** etcd meaning: empty = the key only, "\0" = all keys >= key, else [key, rangeEnd). */
  rangeEnd?: Buffer;
  target: CompareTarget;
  result: CompareResult;
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Buffer;
  lease?: bigint;
}

export interface RangeRequest extends RangeOptions {
  key: Buffer;
  rangeEnd?: Buffer;
}
export interface PutRequest extends PutOptions {
  key: Buffer;
  value: Buffer;
  lease?: bigint;
}
export interface DeleteRangeRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  prevKv?: boolean;
}
export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}
export type RequestOp =
  | { range: RangeRequest }
  | { put: PutRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest };
export type ResponseOp =
  | { range: RangeResult }
  | { put: PutResult }
  | { deleteRange: DeleteRangeResult }
  | { txn: TxnResult };
export interface TxnResult {
  succeeded: boolean;
  responses: ResponseOp[];
  /** The header revision: the txn's revision if it wrote, else the store revision. */
  revision: number;
}

export type EventType = 'PUT' | 'DELETE';
export interface Event {
  type: EventType;
  /** For DELETE: only key and modRevision (the deletion revision) are set, as etcd sends it. */
  kv: KeyValue;
  /** Set when the watcher asked for prevKv and the previous version is not compacted. */
  prevKv?: KeyValue;
}

/**
 * The lessor's view the store needs (src/lease implements it): the store reports which key joined or
 * left which lease on put, overwrite and delete, and asks whether a lease exists before a put.
 */
export interface LeaseIndex {
  exists(lease: bigint): boolean;
  attach(lease: bigint, key: Buffer): void;
  detach(lease: bigint, key: Buffer): void;
}
