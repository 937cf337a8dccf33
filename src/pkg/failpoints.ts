/*
 * Failpoints: named places in the code where a test can make the process die or fail, as etcd's gofail.
 * Off (a single Map lookup on an empty map) unless ETCD_FAILPOINTS is set when the process starts:
 *
 *   ETCD_FAILPOINTS='walAfterWrite=kill;backendBeforeCommit=panic@3'
 *
 * The points: WAL save walBeforeWrite, walAfterWrite, walAfterSync, walCutBeforeRename; backend batch
 * backendBeforeCommit, backendAfterCommit; snapshots raftBeforeSaveSnap, raftAfterSaveSnap,
 * raftBeforeApplySnap, raftAfterApplySnap, snapshotBeforeSendDb (the leader, the message sent and not
 * the database), snapshotReceiveMidDb (a follower, a database partly read), backendBeforeSwap,
 * backendAfterRenameOld, backendAfterRenameNew, applyAfterBackendSwap; compaction mvccCompactBatch,
 * mvccCompactDone; defragment defragBeforeCompact, defragAfterCompact.
 *
 * Actions: `kill` (SIGKILL this process: nothing after this line happens, as a power cut for the
 * process), `panic` (throw FailpointError). `@N` fires on the Nth hit only (1-based); without it, the
 * first hit. Tests may also enable points in-process with enableFailpoint().
 */

export class FailpointError extends Error {
  constructor(readonly point: string) {
    super(`failpoint ${point} triggered`);
  }
}

type Action = { kind: 'kill' | 'panic'; onHit: number; hits: number };

const active = new Map<string, Action>();

export function parseFailpoints(spec: string): Map<string, Action> {
  const out = new Map<string, Action>();
  for (const part of spec.split(';').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]+)=(kill|panic)(?:@(\d+))?$/.exec(part);
    if (!m) throw new Error(`bad failpoint spec "${part}" (want name=kill|panic[@N])`);
    out.set(m[1]!, { kind: m[2] as Action['kind'], onHit: m[3] ? Number(m[3]) : 1, hits: 0 });
  }
  return out;
}

export function enableFailpoint(name: string, kind: Action['kind'], onHit = 1): void {
  active.set(name, { kind, onHit, hits: 0 });
}

export function disableAllFailpoints(): void {
  active.clear();
}

/** Call at a named step. Does nothing unless that point is enabled. */
export function failpoint(name: string): void {
  if (active.size === 0) return;
  const action = active.get(name);
  if (!action) return;
  action.hits += 1;
  if (action.hits !== action.onHit) return;
  if (action.kind === 'kill') process.kill(process.pid, 'SIGKILL');
  throw new FailpointError(name);
}

for (const [name, action] of parseFailpoints(process.env.ETCD_FAILPOINTS ?? '')) active.set(name, action);
