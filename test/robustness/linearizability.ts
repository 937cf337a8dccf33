// Linearizability of a key-value history.
//
// checkLinearizable(): the reference. A Wing & Gong search in the style of Porcupine (Lowe's
// memoization: a configuration (set of linearized ops, model state) is explored at most once),
// run separately for each key — sound because every operation of the workload touches one key and
// linearizability is compositional (local) per object. An 'unknown' op (no answer) has return
// time ∞: it may be linearized at any point after its invocation, or never; a 'failed' op (surely
// not applied) and a read without an answer are left out.
//
// checkRevisions(): cheaper and stronger checks that use etcd's revisions: every acknowledged write
// has its own revision; revisions never go back in real time (an op invoked after another returned
// sees at least its revision, a write a greater one); a read answered at revision R returns exactly
// the last write to its key with revision ≤ R.
//
// Workload assumption both rely on: every put/txn writes a value never written before, so a read's
// value names the write it saw; an unknown write whose value was read gets the mod_revision it was
// read with.
import { isWrite, writtenValue, type History, type Op } from './history.js';

interface KeyState {
  /** null: absent */
  v: string | null;
  /** mod_revision; 0 when absent; -1 when written by an unknown op whose revision nobody saw */
  m: number;
}

export interface LinResult {
  ok: boolean;
  /** set when the search gave up (budget spent) on some key: neither proven nor refuted */
  undecided?: string[];
  anomalies: string[];
}

/** Revisions of unknown writes, learnt from the reads that saw their (unique) values. */
export function observedRevisions(ops: Op[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const op of ops) {
    if (op.status !== 'ok' || !op.resp) continue;
    const kv = op.resp.kv;
    if (kv && !seen.has(`${op.req.key}\0${kv.value}`)) seen.set(`${op.req.key}\0${kv.value}`, kv.modRev);
    for (const x of op.resp.kvs ?? []) if (!seen.has(`${x.key}\0${x.value}`)) seen.set(`${x.key}\0${x.value}`, x.modRev);
  }
  return seen;
}

function readMatches(s: KeyState, kv: { value: string; modRev: number } | null | undefined): boolean {
  if (kv === undefined) return false;
  if (kv === null) return s.v === null;
  return s.v === kv.value && (s.m === -1 || s.m === kv.modRev);
}

/** The model: the state after `op` from `s`, or null when `op` cannot happen in `s` with the answer it got. */
export function step(s: KeyState, op: Op, seen: Map<string, number>): KeyState | null {
  const r = op.req;
  const ok = op.status === 'ok';
  switch (r.type) {
    case 'put':
      return { v: r.value, m: ok ? op.resp!.revision : (seen.get(`${r.key}\0${r.value}`) ?? -1) };
    case 'get':
      return readMatches(s, op.resp?.kv) ? s : null;
    case 'delete':
      if (!ok) return s.v === null ? s : { v: null, m: 0 };
      if ((op.resp!.deleted ?? 0) > 0) return s.v !== null ? { v: null, m: 0 } : null;
      return s.v === null ? s : null;
    case 'range':
      return s; // not checked per key (relevant() leaves ranges out)
    case 'txn': {
      // an unknown-revision state (-1) never equals a compared revision: compared revisions come from answers,
      // and an answer showing that write's revision would have named it (unique values).
      const cmp = s.v === null ? r.expectModRev === 0 : s.m !== -1 && s.m === r.expectModRev;
      const del = r.then === 'delete';
      if (!ok) return cmp ? (del ? { v: null, m: 0 } : { v: r.value, m: seen.get(`${r.key}\0${r.value}`) ?? -1 }) : s;
      if (op.resp!.succeeded !== cmp) return null;
      if (cmp) return del ? { v: null, m: 0 } : { v: r.value, m: op.resp!.revision };
      return readMatches(s, op.resp!.kv) ? s : null;
    }
  }
}

function relevant(op: Op): boolean {
  if (op.status === 'failed' || op.req.type === 'range') return false;
  if (op.status === 'unknown' && (op.req.type === 'get')) return false;
  return true;
}

export interface KeyCheck {
  ok: boolean;
  undecided?: boolean;
  /** when not ok: the longest linearized prefix found, and the ops that could not follow it */
  prefix?: Op[];
  stuck?: Op[];
}

/** Is the history of one key linearizable? `budget` bounds the configurations explored. */
export function checkKey(all: Op[], seen: Map<string, number>, budget = 2_000_000): KeyCheck {
  const ops = all.filter(relevant).sort((a, b) => a.call - b.call || a.id - b.id);
  const n = ops.length;
  const must = ops.filter((o) => o.ret !== Infinity).length;
  const lin = new Uint8Array(n);
  const words = new Uint32Array(Math.ceil(n / 32) || 1);
  const memo = new Set<string>();
  const order: number[] = [];
  let best: number[] = [];
  let bestStuck: number[] = [];
  let explored = 0;
  let gaveUp = false;

  const dfs = (s: KeyState, done: number): boolean => {
    if (done === must) return true;
    if (++explored > budget) {
      gaveUp = true;
      return false;
    }
    const key = `${words.join(',')}|${s.v ?? '\u0000'}|${s.m}`;
    if (memo.has(key)) return false;
    memo.add(key);
    let minRet = Infinity;
    for (let i = 0; i < n; i++) if (!lin[i] && ops[i]!.ret < minRet) minRet = ops[i]!.ret;
    const cands: number[] = [];
    for (let i = 0; i < n; i++) {
      if (lin[i]) continue;
      if (ops[i]!.call > minRet) break;
      cands.push(i);
      const ns = step(s, ops[i]!, seen);
      if (!ns) continue;
      lin[i] = 1;
      words[i >> 5]! |= 1 << (i & 31);
      order.push(i);
      if (dfs(ns, done + (ops[i]!.ret === Infinity ? 0 : 1))) return true;
      order.pop();
      lin[i] = 0;
      words[i >> 5]! &= ~(1 << (i & 31));
      if (gaveUp) return false;
    }
    if (order.length >= best.length) {
      best = [...order];
      bestStuck = cands;
    }
    return false;
  };
  const ok = dfs({ v: null, m: 0 }, 0);
  if (ok) return { ok: true };
  if (gaveUp) return { ok: false, undecided: true };
  return { ok: false, prefix: best.map((i) => ops[i]!), stuck: bestStuck.map((i) => ops[i]!) };
}

export function fmtOp(o: Op): string {
  const r = o.req;
  const req =
    r.type === 'put' ? `put(${r.key}, ${r.value})`
    : r.type === 'get' ? `get(${r.key})`
    : r.type === 'delete' ? `delete(${r.key})`
    : r.type === 'range' ? `range([${r.key}, ${r.end}) limit ${r.limit}${r.atRevision ? ` at ${r.atRevision}` : ''})`
    : `txn(${r.key} mod==${r.expectModRev} ? ${r.then === 'delete' ? 'delete' : `put ${r.value}`} : get)`;
  const res = o.status !== 'ok' ? o.status : JSON.stringify(o.resp);
  const ret = o.ret === Infinity ? '∞' : o.ret.toFixed(1);
  return `#${o.id} c${o.client} [${o.call.toFixed(1)}, ${ret}] ${req} -> ${res}${o.member ? ` @${o.member}` : ''}`;
}

/**
 * A smaller failing history of one key: drop reads (gets, and txns that answered with their failure
 * branch) one at a time while the rest still fails. Dropping a read can never make a linearizable
 * history fail, so what is left still shows the violation; writes stay, since dropping a write could
 * make a read of its value fail for a reason of our own making.
 */
export function shrink(ops: Op[], seen: Map<string, number>, budget?: number): Op[] {
  let cur = ops.filter(relevant);
  const isRead = (o: Op) => o.req.type === 'get' || (o.req.type === 'txn' && o.status === 'ok' && o.resp?.succeeded === false);
  for (let i = cur.length - 1; i >= 0; i--) {
    if (!isRead(cur[i]!)) continue;
    const next = cur.filter((_, j) => j !== i);
    const r = checkKey(next, seen, budget);
    if (!r.ok && !r.undecided) cur = next;
  }
  return cur.sort((a, b) => a.call - b.call);
}

/** Linearizability of the whole history, key by key (the reference check). */
export function checkLinearizable(h: Pick<History, 'ops'>, budget?: number): LinResult {
  const byKey = new Map<string, Op[]>();
  for (const op of h.ops) {
    if (op.req.type === 'range') continue;
    const l = byKey.get(op.req.key) ?? [];
    l.push(op);
    byKey.set(op.req.key, l);
  }
  const seen = observedRevisions(h.ops);
  const anomalies: string[] = [];
  const undecided: string[] = [];
  for (const [key, ops] of [...byKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const r = checkKey(ops, seen, budget);
    if (r.ok) continue;
    if (r.undecided) {
      undecided.push(key);
      continue;
    }
    const small = shrink(ops, seen, budget);
    const tail = r.prefix!.slice(-5).map(fmtOp).join('\n    ');
    anomalies.push(
      `key ${key}: not linearizable (${ops.length} ops); longest linearization has ${r.prefix!.length} ops, ending\n    ${tail}\n` +
        `  and none of these can follow it:\n    ${r.stuck!.map(fmtOp).join('\n    ')}\n` +
        `  a smaller failing sub-history (${small.length} ops, reads dropped while it still fails):\n    ${small.slice(0, 30).map(fmtOp).join('\n    ')}${small.length > 30 ? '\n    …' : ''}`,
    );
  }
  return { ok: anomalies.length === 0, anomalies, ...(undecided.length ? { undecided } : {}) };
}

/** The checks that etcd's revisions make cheap (see the file's comment). */
export function checkRevisions(h: Pick<History, 'ops'>): string[] {
  const out: string[] = [];
  const okOps = h.ops.filter((o) => o.status === 'ok' && o.resp);
  const seen = observedRevisions(h.ops);

  // 1. one revision, one acknowledged write
  const byRev = new Map<number, Op>();
  for (const o of okOps) {
    if (!isWrite(o)) continue;
    const prev = byRev.get(o.resp!.revision);
    if (prev) out.push(`two acknowledged writes at revision ${o.resp!.revision}: ${fmtOp(prev)} and ${fmtOp(o)}`);
    else byRev.set(o.resp!.revision, o);
  }

  // 2. revisions follow real time
  const byRet = [...okOps].sort((a, b) => a.ret - b.ret);
  const byCall = [...okOps].sort((a, b) => a.call - b.call);
  let j = 0;
  let maxRev = 0;
  let maxOp: Op | undefined;
  for (const b of byCall) {
    while (j < byRet.length && byRet[j]!.ret < b.call) {
      if (byRet[j]!.resp!.revision > maxRev) {
        maxRev = byRet[j]!.resp!.revision;
        maxOp = byRet[j];
      }
      j++;
    }
    const rev = b.resp!.revision;
    if (rev < maxRev || (isWrite(b) && rev === maxRev && maxOp !== b)) {
      out.push(`revision went back in real time: ${fmtOp(b)} invoked after ${fmtOp(maxOp!)} returned`);
    }
  }

  // 3. a read at revision R sees the last write to its key at or below R
  const writes = new Map<string, Array<{ rev: number; v: string | null; op: Op }>>();
  const unknownDeletes = new Map<string, Op[]>();
  const add = (key: string, rev: number, v: string | null, op: Op) => {
    const l = writes.get(key) ?? [];
    l.push({ rev, v, op });
    writes.set(key, l);
  };
  for (const o of h.ops) {
    const r = o.req;
    if (o.status === 'ok' && isWrite(o)) add(r.key, o.resp!.revision, writtenValue(r), o);
    else if (o.status === 'unknown' && (r.type === 'put' || (r.type === 'txn' && r.then !== 'delete'))) {
      const rev = seen.get(`${r.key}\0${r.value}`);
      if (rev !== undefined) add(r.key, rev, r.value, o);
    } else if (o.status === 'unknown' && writtenValue(r) === null && r.type !== 'get' && r.type !== 'range') {
      const l = unknownDeletes.get(r.key) ?? [];
      l.push(o);
      unknownDeletes.set(r.key, l);
    }
  }
  for (const l of writes.values()) l.sort((a, b) => a.rev - b.rev);
  const readOne = (o: Op, key: string, R: number, kv: { value: string; modRev: number } | null) => {
    const l = writes.get(key) ?? [];
    let last: { rev: number; v: string | null; op: Op } | undefined;
    for (const w of l) if (w.rev <= R) last = w;
    const expV = last?.v ?? null;
    if (kv === null) {
      if (expV === null) return;
      const ud = (unknownDeletes.get(key) ?? []).some((d) => d.call < o.ret);
      if (!ud) out.push(`read at revision ${R} found ${key} absent, but it was written at ${last!.rev} by ${fmtOp(last!.op)}: ${fmtOp(o)}`);
      return;
    }
    if (kv.modRev > R) out.push(`read at revision ${R} returned ${key} with mod_revision ${kv.modRev} from the future: ${fmtOp(o)}`);
    else if (expV !== kv.value || last!.rev !== kv.modRev) {
      out.push(`read at revision ${R} saw ${key}=${JSON.stringify(kv)}, but the last write to ${key} at or below ${R} is ${last ? `${JSON.stringify(last.v)}@${last.rev} by ${fmtOp(last.op)}` : 'none'}: ${fmtOp(o)}`);
    }
  };
  for (const o of okOps) {
    const r = o.req;
    if (r.type === 'range') {
      // every key found is the last write at or below R; every written key of the range not found
      // (before the limit cut the answer off) is absent at R
      const R = r.atRevision || o.resp!.revision;
      const kvs = o.resp!.kvs ?? [];
      const found = new Map(kvs.map((x) => [x.key, x]));
      const cut = o.resp!.more && kvs.length ? kvs[kvs.length - 1]!.key : undefined;
      for (const x of kvs) readOne(o, x.key, R, x);
      for (const key of writes.keys()) {
        if (key < r.key || key >= r.end || found.has(key) || (cut !== undefined && key > cut)) continue;
        readOne(o, key, R, null);
      }
      continue;
    }
    const kv = o.resp!.kv;
    if (kv === undefined) continue;
    readOne(o, r.key, o.resp!.revision, kv);
  }
  return out;
}
