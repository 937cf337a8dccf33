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
import { isWrite, keysOf, writesOf, type History, type Op } from './history.js';

interface KeyState {
  /** null: absent */
  v: string | null;
  /** mod_revision; 0 when absent; -1 when written by an unknown op whose revision nobody saw */
  m: number;
}

/** The state of a group of keys (absent keys are left out); never mutated, copied on write. */
type GroupState = ReadonlyMap<string, KeyState>;
const ABSENT: KeyState = { v: null, m: 0 };

export interface LinResult {
  ok: boolean;
  /** set when the search gave up (budget spent) on some key: neither proven nor refuted */
  undecided?: string[];
  anomalies: string[];
}

/** Revisions of unknown writes, learnt from the reads that saw their (unique) values. */
export function observedRevisions(ops: Op[]): Map<string, number> {
  const seen = new Map<string, number>();
  const saw = (key: string, kv: { value: string; modRev: number } | null | undefined) => {
    if (kv && !seen.has(`${key}\0${kv.value}`)) seen.set(`${key}\0${kv.value}`, kv.modRev);
  };
  for (const op of ops) {
    if (op.status !== 'ok' || !op.resp) continue;
    const r = op.req;
    if (r.type === 'mtxn') r.keys.forEach((k, j) => saw(k, op.resp!.mkvs?.[j]));
    else saw(r.key, op.resp.kv);
    for (const x of op.resp.kvs ?? []) saw(x.key, x);
  }
  return seen;
}

function readMatches(s: KeyState, kv: { value: string; modRev: number } | null | undefined): boolean {
  if (kv === undefined) return false;
  if (kv === null) return s.v === null;
  return s.v === kv.value && (s.m === -1 || s.m === kv.modRev);
}

// an unknown-revision state (-1) never equals a compared revision: compared revisions come from
// answers, and an answer showing that write's revision would have named it (unique values)
const cmpHolds = (s: KeyState, expect: number) => (s.v === null ? expect === 0 : s.m !== -1 && s.m === expect);

/** The model of one key: the state after `op` from `s`, or null when `op` cannot happen in `s` with the answer it got. */
export function step(s: KeyState, op: Op, seen: Map<string, number>): KeyState | null {
  const r = op.req;
  if (r.type === 'mtxn') {
    const ns = stepGroup(new Map([[r.keys[0]!, s]]), op, seen);
    return ns ? (ns.get(r.keys[0]!) ?? ABSENT) : null;
  }
  const ok = op.status === 'ok';
  switch (r.type) {
    case 'put':
      return { v: r.value, m: ok ? op.resp!.revision : (seen.get(`${r.key}\0${r.value}`) ?? -1) };
    case 'get':
      return readMatches(s, op.resp?.kv) ? s : null;
    case 'delete':
      if (!ok) return s.v === null ? s : ABSENT;
      if ((op.resp!.deleted ?? 0) > 0) return s.v !== null ? ABSENT : null;
      return s.v === null ? s : null;
    case 'range':
      return s; // not checked per key (relevant() leaves ranges out)
    case 'txn': {
      const cmp = cmpHolds(s, r.expectModRev);
      const del = r.then === 'delete';
      if (!ok) return cmp ? (del ? ABSENT : { v: r.value, m: seen.get(`${r.key}\0${r.value}`) ?? -1 }) : s;
      if (op.resp!.succeeded !== cmp) return null;
      if (cmp) return del ? ABSENT : { v: r.value, m: op.resp!.revision };
      return readMatches(s, op.resp!.kv) ? s : null;
    }
  }
}

/** The model of a group of keys: `op` (on any of its keys) applied to `g`, or null. */
export function stepGroup(g: GroupState, op: Op, seen: Map<string, number>): GroupState | null {
  const r = op.req;
  const get = (k: string) => g.get(k) ?? ABSENT;
  if (r.type !== 'mtxn') {
    const cur = get(r.key);
    const ns = step(cur, op, seen);
    if (!ns) return null;
    if (ns === cur) return g;
    const out = new Map(g);
    if (ns.v === null) out.delete(r.key);
    else out.set(r.key, ns);
    return out;
  }
  const cmp = r.keys.every((k, j) => cmpHolds(get(k), r.expectModRevs[j]!));
  const ok = op.status === 'ok';
  if (ok && op.resp!.succeeded !== cmp) return null;
  if (!cmp) {
    if (!ok) return g;
    return r.keys.every((k, j) => readMatches(get(k), op.resp!.mkvs?.[j])) ? g : null;
  }
  const out = new Map(g);
  r.keys.forEach((k, j) => out.set(k, { v: r.values[j]!, m: ok ? op.resp!.revision : (seen.get(`${k}\0${r.values[j]}`) ?? -1) }));
  return out;
}

function stateKey(g: GroupState): string {
  if (g.size === 0) return '';
  if (g.size === 1) for (const [k, s] of g) return `${k}\u0001${s.v}\u0001${s.m}`;
  return [...g].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, s]) => `${k}\u0001${s.v}\u0001${s.m}`).join('\u0002');
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

/**
 * Is the history of one key, or of one group of keys that multi-key txns join, linearizable?
 * `budget` bounds the configurations explored. The search is iterative (a history of thousands of
 * ops would overflow the stack as recursion).
 */
export function checkKey(all: Op[], seen: Map<string, number>, budget = 2_000_000): KeyCheck {
  const ops = all.filter(relevant).sort((a, b) => a.call - b.call || a.id - b.id);
  const n = ops.length;
  const must = ops.filter((o) => o.ret !== Infinity).length;
  const lin = new Uint8Array(n);
  // the linearized set is memoized by a Zobrist hash (96 bits: three random words per op, XORed in and
  // out); a collision could only make the search skip a configuration, i.e. report a violation that
  // is not there, never hide one — at ~10^-20 per pair of configurations
  const zob = new Uint32Array(3 * n);
  let z = 0x9e3779b9;
  for (let i = 0; i < zob.length; i++) {
    z ^= z << 13;
    z ^= z >>> 17;
    z ^= z << 5;
    zob[i] = z >>> 0;
  }
  let h0 = 0, h1 = 0, h2 = 0;
  let lo = 0; // every op before lo is linearized
  const memo = new Set<string>();
  const order: number[] = [];
  let best: number[] = [];
  let bestStuck: number[] = [];
  let explored = 0;

  interface Frame { s: GroupState; done: number; minRet: number; i: number }
  const mark = (i: number, on: boolean) => {
    lin[i] = on ? 1 : 0;
    h0 ^= zob[3 * i]!;
    h1 ^= zob[3 * i + 1]!;
    h2 ^= zob[3 * i + 2]!;
    if (on) while (lo < n && lin[lo]) lo++;
    else if (i < lo) lo = i;
  };
  /** a frame for state s, or undefined when (linearized set, s) was explored already */
  const enter = (s: GroupState, done: number): Frame | undefined => {
    const key = `${h0},${h1},${h2},${order.length}|${stateKey(s)}`;
    if (memo.has(key)) return undefined;
    memo.add(key);
    let minRet = Infinity;
    for (let i = lo; i < n; i++) {
      if (lin[i]) continue;
      if (ops[i]!.call > minRet) break; // ops are in call order and ret ≥ call: none further is smaller
      if (ops[i]!.ret < minRet) minRet = ops[i]!.ret;
    }
    return { s, done, minRet, i: lo };
  };
  const stack: Frame[] = [enter(new Map(), 0)!];
  while (stack.length) {
    const f = stack[stack.length - 1]!;
    if (f.done === must) return { ok: true };
    let next: Frame | undefined;
    if (f.i < lo) f.i = lo;
    for (; f.i < n && !next; f.i++) {
      const i = f.i;
      if (lin[i]) continue;
      if (ops[i]!.call > f.minRet) {
        f.i = n;
        break;
      }
      const ns = stepGroup(f.s, ops[i]!, seen);
      if (!ns) continue;
      mark(i, true);
      order.push(i);
      next = enter(ns, f.done + (ops[i]!.ret === Infinity ? 0 : 1));
      if (!next) {
        order.pop();
        mark(i, false);
      }
    }
    if (next) {
      if (++explored > budget) return { ok: false, undecided: true };
      stack.push(next);
      continue;
    }
    // every candidate tried from here: back up
    if (order.length >= best.length) {
      best = [...order];
      bestStuck = [];
      for (let i = lo; i < n && ops[i]!.call <= f.minRet; i++) if (!lin[i]) bestStuck.push(i);
    }
    stack.pop();
    if (stack.length) mark(order.pop()!, false);
  }
  return { ok: false, prefix: best.map((i) => ops[i]!), stuck: bestStuck.map((i) => ops[i]!) };
}

export function fmtOp(o: Op): string {
  const r = o.req;
  const req =
    r.type === 'put' ? `put(${r.key}, ${r.value})`
    : r.type === 'get' ? `get(${r.key})`
    : r.type === 'delete' ? `delete(${r.key})`
    : r.type === 'range' ? `range([${r.key}, ${r.end}) limit ${r.limit}${r.atRevision ? ` at ${r.atRevision}` : ''})`
    : r.type === 'mtxn' ? `txn(${r.keys.map((k, j) => `${k} mod==${r.expectModRevs[j]}`).join(' && ')} ? ${r.keys.map((k, j) => `put ${k} ${r.values[j]}`).join(', ')} : get ${r.keys.join(', ')})`
    : `txn(${r.key} mod==${r.expectModRev} ? ${r.then === 'delete' ? 'delete' : `put ${r.value}`} : get)`;
  const res = o.status !== 'ok' ? o.status : JSON.stringify(o.resp);
  const ret = o.ret === Infinity ? '∞' : o.ret.toFixed(1);
  return `#${o.id} c${o.client} [${o.call.toFixed(1)}, ${ret}] ${req} -> ${res}${o.member ? ` @${o.member}` : ''}`;
}

/**
 * A smaller failing history of one key or group. First the shortest failing prefix (the ops invoked
 * up to some time: if a prefix cannot be linearized neither can the whole, so a binary search finds
 * it), then reads (gets, and txns that answered with their failure branch) dropped one at a time,
 * newest first, while the rest still fails, for at most `ms` of searching. Dropping a read can never
 * make a linearizable history fail, so what is left still shows the violation; writes stay, since
 * dropping a write could make a read of its value fail for a reason of our own making.
 */
export function shrink(ops: Op[], seen: Map<string, number>, budget?: number, ms = 5000): Op[] {
  let cur = ops.filter(relevant).sort((a, b) => a.call - b.call || a.id - b.id);
  const fails = (h: Op[]) => {
    const r = checkKey(h, seen, budget);
    return !r.ok && !r.undecided;
  };
  let [lo, hi] = [0, cur.length]; // the prefix of hi ops fails
  while (lo + 1 < hi) {
    const mid = (lo + hi) >> 1;
    if (fails(cur.slice(0, mid))) hi = mid;
    else lo = mid;
  }
  cur = cur.slice(0, hi);
  const end = performance.now() + ms;
  const isRead = (o: Op) => o.req.type === 'get' || ((o.req.type === 'txn' || o.req.type === 'mtxn') && o.status === 'ok' && o.resp?.succeeded === false);
  for (let i = cur.length - 1; i >= 0 && performance.now() < end; i--) {
    if (!isRead(cur[i]!)) continue;
    const next = cur.filter((_, j) => j !== i);
    if (fails(next)) cur = next;
  }
  return cur;
}

/**
 * The groups of keys the search must check together: every key alone, except that the keys of one
 * multi-key txn are joined (union-find), since an op on several objects makes the per-object
 * composition of linearizability unsound. Each group with its ops, the group named by its keys.
 */
export function groupByKeys(ops: Op[]): Array<{ keys: string[]; ops: Op[] }> {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let r = k;
    while (parent.get(r) !== r) r = parent.get(r) ?? (parent.set(r, r), r);
    parent.set(k, r);
    return r;
  };
  const kvOps = ops.filter((op) => op.req.type !== 'range');
  for (const op of kvOps) {
    const ks = keysOf(op.req);
    for (const k of ks) find(k);
    for (const k of ks.slice(1)) parent.set(find(k), find(ks[0]!));
  }
  const groups = new Map<string, { keys: string[]; ops: Op[] }>();
  for (const k of parent.keys()) {
    const root = find(k);
    const g = groups.get(root) ?? { keys: [], ops: [] };
    g.keys.push(k);
    groups.set(root, g);
  }
  for (const op of kvOps) groups.get(find(keysOf(op.req)[0]!))!.ops.push(op);
  const out = [...groups.values()];
  for (const g of out) g.keys.sort();
  return out.sort((a, b) => (a.keys[0]! < b.keys[0]! ? -1 : 1));
}

/** Linearizability of the whole history, key by key or group by group (the reference check). */
export function checkLinearizable(h: Pick<History, 'ops'>, budget?: number): LinResult {
  const seen = observedRevisions(h.ops);
  const anomalies: string[] = [];
  const undecided: string[] = [];
  for (const { keys, ops } of groupByKeys(h.ops)) {
    const name = keys.join('+');
    const r = checkKey(ops, seen, budget);
    if (r.ok) continue;
    if (r.undecided) {
      undecided.push(name);
      continue;
    }
    const small = shrink(ops, seen, budget);
    const tail = r.prefix!.slice(-5).map(fmtOp).join('\n    ');
    anomalies.push(
      `${keys.length > 1 ? 'keys' : 'key'} ${name}: not linearizable (${ops.length} ops); longest linearization has ${r.prefix!.length} ops, ending\n    ${tail}\n` +
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
    if (o.status === 'ok' && isWrite(o)) {
      for (const w of writesOf(o.req)) add(w.key, o.resp!.revision, w.value, o);
    } else if (o.status === 'unknown') {
      for (const w of writesOf(o.req)) {
        if (w.value !== null) {
          const rev = seen.get(`${w.key}\0${w.value}`);
          if (rev !== undefined) add(w.key, rev, w.value, o);
        } else {
          const l = unknownDeletes.get(w.key) ?? [];
          l.push(o);
          unknownDeletes.set(w.key, l);
        }
      }
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
    if (r.type === 'mtxn') {
      if (!o.resp!.succeeded) r.keys.forEach((k, j) => readOne(o, k, o.resp!.revision, o.resp!.mkvs?.[j] ?? null));
      continue;
    }
    const kv = o.resp!.kv;
    if (kv === undefined) continue;
    readOne(o, r.key, o.resp!.revision, kv);
  }
  return out;
}
