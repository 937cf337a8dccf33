// The watch guarantees as etcd states them (api_guarantees.md), checked over the recorded watch
// responses together with the key-value history:
//   ordered   — within a watch, event revisions never decrease;
//   unique    — no (revision, key) twice in a watch;
//   atomic    — the events of one revision (a txn) come in one response: a response never starts at
//               the revision the previous one ended with; all watches agree on what each revision holds;
//   reliable  — between a watch's start and the last revision it heard of, no revision that any other
//               watch or any acknowledged write shows (for its keys) is missing, unless the watch was
//               cancelled by a compaction first;
//   filter    — events are for the watched prefix, at or after the start revision, and of no type the
//               watch filtered out (NOPUT, NODELETE); what it filtered out is not expected of it;
//   bookmarkable — a progress notification (an answer to WatchProgressRequest) at revision P never
//               goes back (below an earlier one or an event already delivered), no event at or below
//               P comes after it, and every event up to P must have been delivered (reliable);
//   prev_kv   — when asked for, prev_kv is the key's previous version (absent after a delete or for a
//               creation, and allowed to be absent once a compaction at or above the event's
//               revision removed it); a PUT's version is 1 exactly when it creates the key;
//   complete  — a watch on a member that stayed up (and a stream never broken) holds every
//               acknowledged write from its start revision on, with the value written;
//   agreement — an event's revision is the revision its write was acknowledged with.
import { isWrite, writesOf, type History, type WatchEvent, type WatchLog } from './history.js';

interface RefEvent {
  type: 'PUT' | 'DELETE';
  key: string;
  value: string;
  version: number;
  from: string;
}

function evKey(e: { key: string }, rev: number): string {
  return `${rev}\0${e.key}`;
}

function fmtEv(e: WatchEvent): string {
  return `${e.type} ${e.key}=${JSON.stringify(e.value)} mod=${e.modRev} ver=${e.version}${e.prevKv ? ` prev=${JSON.stringify(e.prevKv.value)}@${e.prevKv.modRev}` : ''}`;
}

export function checkWatches(h: History): string[] {
  const out: string[] = [];
  // the reference: (revision, key) → event, from every watch and every acknowledged write
  const ref = new Map<string, RefEvent>();
  const revKeys = new Map<number, Set<string>>(); // revision → keys written at it
  const note = (rev: number, e: RefEvent) => {
    const k = evKey(e, rev);
    const prev = ref.get(k);
    if (prev) {
      const same = prev.type === e.type && (e.type === 'DELETE' || prev.value === e.value);
      if (!same) out.push(`disagreement at revision ${rev} key ${e.key}: ${prev.from} says ${prev.type} ${JSON.stringify(prev.value)}, ${e.from} says ${e.type} ${JSON.stringify(e.value)}`);
      else if (prev.version === -1) prev.version = e.version;
      return;
    }
    ref.set(k, e);
    const s = revKeys.get(rev) ?? new Set();
    s.add(e.key);
    revKeys.set(rev, s);
  };
  for (const op of h.ops) {
    if (op.status !== 'ok' || !isWrite(op)) continue;
    for (const { key, value: v } of writesOf(op.req)) note(op.resp!.revision, { type: v === null ? 'DELETE' : 'PUT', key, value: v ?? '', version: -1, from: `op #${op.id}` });
  }
  for (const w of h.watches) for (const resp of w.responses) for (const e of resp.events) note(e.modRev, { ...e, from: `watch ${w.id}` });

  // agreement: a value (unique per write) shows up at the revision its write was acknowledged with
  const ackRev = new Map<string, number>();
  for (const op of h.ops) {
    if (op.status !== 'ok' || !isWrite(op)) continue;
    for (const { key, value: v } of writesOf(op.req)) if (v !== null) ackRev.set(`${key}\0${v}`, op.resp!.revision);
  }
  for (const w of h.watches) {
    for (const resp of w.responses) {
      for (const e of resp.events) {
        const a = e.type === 'PUT' ? ackRev.get(`${e.key}\0${e.value}`) : undefined;
        if (a !== undefined && a !== e.modRev) out.push(`watch ${w.id}: ${fmtEv(e)} but the write was acknowledged at revision ${a}`);
      }
    }
  }

  // every key's timeline, by revision
  const timeline = new Map<string, number[]>();
  for (const k of ref.keys()) {
    const [rev, key] = [Number(k.slice(0, k.indexOf('\0'))), k.slice(k.indexOf('\0') + 1)];
    const l = timeline.get(key) ?? [];
    l.push(rev);
    timeline.set(key, l);
  }
  for (const l of timeline.values()) l.sort((a, b) => a - b);
  const previous = (key: string, rev: number): number | undefined => {
    const l = timeline.get(key) ?? [];
    let p: number | undefined;
    for (const r of l) if (r < rev) p = r;
    return p;
  };

  for (const w of h.watches) out.push(...checkOne(w, ref, revKeys, previous, h));
  return out;
}

function checkOne(
  w: WatchLog,
  ref: Map<string, RefEvent>,
  revKeys: Map<number, Set<string>>,
  previous: (key: string, rev: number) => number | undefined,
  h: History,
): string[] {
  const out: string[] = [];
  const tag = `watch ${w.id} (${w.member})`;
  const maxCompaction = Math.max(0, ...(h.compactions ?? []));
  const seen = new Set<string>();
  let lastRev = 0;
  let lastHeader = 0;
  let compacted: number | undefined;
  const filtered = new Set(w.filters?.map((f) => (f === 'NOPUT' ? 'PUT' : 'DELETE')) ?? []);
  let progressRev = 0; // the highest progress notification so far
  let progressOp = ''; // ... and where it was
  for (const [ri, resp] of w.responses.entries()) {
    if (resp.compactRevision) compacted = resp.compactRevision;
    if (resp.progress) {
      // bookmarkable: never backwards (below an earlier notification or an event already delivered)
      if (resp.revision < progressRev) out.push(`${tag}: progress notification went back: revision ${resp.revision} (response ${ri}) after ${progressRev} (${progressOp})`);
      if (resp.revision < lastRev) out.push(`${tag}: progress notification at revision ${resp.revision} (response ${ri}) after an event at ${lastRev} was delivered`);
      if (resp.revision > progressRev) [progressRev, progressOp] = [resp.revision, `response ${ri}`];
      continue;
    }
    if (resp.events.length === 0) continue;
    const first = resp.events[0]!.modRev;
    if (first <= lastRev) {
      out.push(
        first === lastRev
          ? `${tag}: not atomic — revision ${first} split over two responses`
          : `${tag}: not ordered — response starts at revision ${first} after ${lastRev}`,
      );
    }
    let prevInResp = first;
    for (const e of resp.events) {
      if (e.modRev < prevInResp) out.push(`${tag}: not ordered — ${fmtEv(e)} after revision ${prevInResp}`);
      prevInResp = e.modRev;
      // bookmarkable: nothing at or below a progress notification comes after it
      if (e.modRev <= progressRev) out.push(`${tag}: not bookmarkable — ${fmtEv(e)} (response ${ri}) delivered after a progress notification at revision ${progressRev} (${progressOp})`);
      if (filtered.has(e.type)) out.push(`${tag}: filter — ${fmtEv(e)} delivered to a watch with filter NO${e.type}`);
      const k = evKey(e, e.modRev);
      if (seen.has(k)) out.push(`${tag}: not unique — ${fmtEv(e)} twice`);
      seen.add(k);
      if (!e.key.startsWith(w.prefix)) out.push(`${tag}: filter — ${fmtEv(e)} outside prefix ${JSON.stringify(w.prefix)}`);
      if (w.startRevision > 0 && e.modRev < w.startRevision) out.push(`${tag}: ${fmtEv(e)} before start revision ${w.startRevision}`);
      if (e.type === 'PUT' && e.modRev !== 0) {
        // version / create and prev_kv against the key's timeline
        const p = previous(e.key, e.modRev);
        const pe = p === undefined ? undefined : ref.get(evKey(e, p));
        if (pe?.type === 'PUT' && e.version === 1) out.push(`${tag}: ${fmtEv(e)} claims to create the key, but it was put at ${p}`);
        if (pe?.type === 'DELETE' && e.version !== 1) out.push(`${tag}: ${fmtEv(e)} follows a delete at ${p} but has version ${e.version}`);
        if (pe?.type === 'PUT' && pe.version > 0 && e.version !== pe.version + 1) out.push(`${tag}: ${fmtEv(e)} follows version ${pe.version} at ${p}`);
      }
      if (w.prevKv && e.modRev !== 0) {
        const p = previous(e.key, e.modRev);
        const pe = p === undefined ? undefined : ref.get(evKey(e, p));
        if (e.prevKv) {
          if (pe === undefined) {
            // the previous write is before anything recorded: it must at least be older
            if (e.prevKv.modRev >= e.modRev) out.push(`${tag}: ${fmtEv(e)} has prev_kv from revision ${e.prevKv.modRev}`);
          } else if (pe.type !== 'PUT' || p !== e.prevKv.modRev || pe.value !== e.prevKv.value) {
            out.push(`${tag}: wrong prev_kv on ${fmtEv(e)}: the key's previous event is ${pe.type} ${JSON.stringify(pe.value)} at ${p}`);
          }
        } else if (pe?.type === 'PUT' && e.modRev > maxCompaction) {
          // (a compaction at or above this event's revision removes the version before it: "If the
          // previous KV is already compacted, nothing will be returned")
          out.push(`${tag}: prev_kv missing on ${fmtEv(e)}: the key was put at ${p} with ${JSON.stringify(pe.value)}`);
        }
      }
    }
    lastRev = resp.events[resp.events.length - 1]!.modRev;
    if (resp.revision < lastRev) out.push(`${tag}: response header revision ${resp.revision} below its last event ${lastRev}`);
    lastHeader = Math.max(lastHeader, resp.revision);
  }

  // reliable: nothing missing between the start and the last revision heard of: the last event, or a
  // progress notification (which says every event up to it was delivered); a response header's
  // revision may run ahead of the events the watch has been sent, so it does not count
  const from = w.startRevision > 0 ? w.startRevision : firstRev(w);
  if (from !== undefined) {
    const upTo = Math.max(lastRev, progressRev);
    const to = compacted !== undefined ? Math.min(upTo, compacted) : upTo;
    for (const [rev, keys] of revKeys) {
      if (rev < from || rev > to) continue;
      for (const key of keys) {
        if (!key.startsWith(w.prefix)) continue;
        if (!seen.has(`${rev}\0${key}`)) {
          const e = ref.get(`${rev}\0${key}`)!;
          if (filtered.has(e.type)) continue;
          if (tombstoneCompacted(w, h, rev, e.type)) continue;
          out.push(`${tag}: not reliable — missing ${e.type} ${key}=${JSON.stringify(e.value)} at revision ${rev} (known from ${e.from}) while it delivered up to ${lastRev}${progressRev > lastRev ? ` and was told of progress up to ${progressRev}` : ''}`);
        }
      }
    }
  }

  // complete: a watch that stayed up all run holds every acknowledged write since its start
  if (w.complete && compacted === undefined) {
    for (const op of h.ops) {
      if (op.status !== 'ok' || !isWrite(op)) continue;
      const rev = op.resp!.revision;
      for (const { key, value } of writesOf(op.req)) {
        if (!key.startsWith(w.prefix) || rev < w.startRevision || filtered.has(value === null ? 'DELETE' : 'PUT')) continue;
        if (!seen.has(`${rev}\0${key}`) && !tombstoneCompacted(w, h, rev, value === null ? 'DELETE' : 'PUT')) out.push(`${tag}: acknowledged write missing from a watch that stayed up: op #${op.id} ${op.req.type} ${key} at revision ${rev}`);
      }
    }
  }
  void lastHeader;
  return out;
}

/**
 * A DELETE at the very revision a watch started from, when a compaction at or above it was asked for:
 * compaction drops a key's tombstone at or below the compacted revision, so a watch resumed at the
 * compacted revision does not get it (etcd 3.4 alike: put a, delete a at 4, compact 4, watch --rev 4
 * shows nothing).
 */
function tombstoneCompacted(w: WatchLog, h: History, rev: number, type: 'PUT' | 'DELETE'): boolean {
  return type === 'DELETE' && rev === w.startRevision && (h.compactions ?? []).some((c) => c >= rev);
}

function firstRev(w: WatchLog): number | undefined {
  for (const r of w.responses) if (r.events.length) return r.events[0]!.modRev;
  return undefined;
}
