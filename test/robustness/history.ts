// The recorded history of a robustness run: every client operation with its invocation and return
// time and its result, and every watch response. Shared by the runner (which records) and the
// checkers (which judge). Times are milliseconds on one monotonic clock (performance.now()).

/**
 * A request of the key-value workload. All but 'range' and 'mtxn' touch one key; a range (a list with
 * a limit, as Kubernetes pages through a prefix) is checked by the revision checks only, and a
 * multi-key txn joins the keys it touches into one group that the search checks together.
 */
export type Req =
  | { type: 'put'; key: string; value: string }
  | { type: 'get'; key: string }
  | { type: 'delete'; key: string }
  /**
   * if mod_revision(key) == expectModRev then put(key, value) (or delete(key) when `then` is
   * 'delete': Kubernetes' guarded delete, sent only for a key last seen present) else get(key)
   */
  | { type: 'txn'; key: string; expectModRev: number; value: string; then?: 'delete' }
  /** keys in [key, end) with at most `limit` answers, at revision `atRevision` (0: the newest) */
  | { type: 'range'; key: string; end: string; limit: number; atRevision: number }
  /**
   * a multi-key compare-and-swap: if mod_revision(keys[j]) == expectModRevs[j] for every j then
   * put(keys[j], values[j]) for every j, else get every key (distinct keys)
   */
  | { type: 'mtxn'; keys: string[]; expectModRevs: number[]; values: string[] };

/** The keys a request touches (a range: its start key only; ranges are never grouped). */
export function keysOf(req: Req): string[] {
  return req.type === 'mtxn' ? req.keys : [req.key];
}

/** What a write request leaves, key by key (null: deleted); nothing for reads. */
export function writesOf(req: Req): Array<{ key: string; value: string | null }> {
  if (req.type === 'mtxn') return req.keys.map((key, j) => ({ key, value: req.values[j]! }));
  if (req.type === 'get' || req.type === 'range') return [];
  return [{ key: req.key, value: writtenValue(req) }];
}

/** The value a write op leaves (null: the key is deleted). */
export function writtenValue(req: Exclude<Req, { type: 'mtxn' }>): string | null {
  if (req.type === 'delete' || (req.type === 'txn' && req.then === 'delete')) return null;
  return req.type === 'put' || req.type === 'txn' ? req.value : null;
}

/** What the server answered (only for status 'ok'). */
export interface Resp {
  /** header.revision */
  revision: number;
  /** get, and txn when not succeeded: the key's value and mod_revision, or null when absent */
  kv?: { value: string; modRev: number } | null;
  /** range: the keys found, in key order, and whether more were left out by the limit */
  kvs?: Array<{ key: string; value: string; modRev: number }>;
  more?: boolean;
  /** delete: how many keys were deleted (0 or 1) */
  deleted?: number;
  /** txn: whether the compare held */
  succeeded?: boolean;
  /** mtxn when not succeeded: each key's value and mod_revision (null: absent), in the order of keys */
  mkvs?: Array<{ value: string; modRev: number } | null>;
}

/**
 * ok: answered; failed: definitely not applied (rejected before it could be proposed);
 * unknown: no answer (timeout, connection lost, error after proposing) — possibly applied at any
 * point after its invocation, or never.
 */
export type Status = 'ok' | 'failed' | 'unknown';

export interface Op {
  id: number;
  client: number;
  req: Req;
  call: number;
  /** return time; Infinity for unknown */
  ret: number;
  status: Status;
  resp?: Resp;
  /** the member the client talked to, the error text (for reports) */
  member?: string;
  error?: string;
}

export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  key: string;
  value: string;
  modRev: number;
  createRev: number;
  version: number;
  prevKv?: { value: string; modRev: number; createRev: number; version: number };
}

export interface WatchResponse {
  /** header.revision */
  revision: number;
  events: WatchEvent[];
  compactRevision?: number;
  canceled?: boolean;
  /**
   * A progress notification (no events, not created, not canceled): every event of the watch up to
   * `revision` has been delivered before it, and none at or below it comes after.
   */
  progress?: boolean;
  /** ... sent by the member on its own to a progress_notify watch (not an answer to a progress request) */
  periodic?: boolean;
  /** receive time */
  at: number;
}

export interface WatchLog {
  id: string;
  member: string;
  /** the watch covers keys with this prefix */
  prefix: string;
  /** start_revision asked for */
  startRevision: number;
  prevKv: boolean;
  /** event types the watch filtered out (etcd's NOPUT / NODELETE) */
  filters?: Array<'NOPUT' | 'NODELETE'>;
  responses: WatchResponse[];
  /**
   * True when the member stayed up and the stream was never broken for the whole run: then every
   * acknowledged write from startRevision on must be in it.
   */
  complete: boolean;
  /** why the stream ended, when it broke */
  error?: string;
}

export interface History {
  ops: Op[];
  watches: WatchLog[];
  /** revisions of the compactions requested (answered or not) */
  compactions?: number[];
}

/** Does this ok op write (create a new revision)? */
export function isWrite(op: Op): boolean {
  const r = op.req;
  if (r.type === 'put') return true;
  if (r.type === 'delete') return op.status !== 'ok' || (op.resp?.deleted ?? 0) > 0;
  if (r.type === 'txn' || r.type === 'mtxn') return op.status !== 'ok' || op.resp?.succeeded === true;
  return false;
}
