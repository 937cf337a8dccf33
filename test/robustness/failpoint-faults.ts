// Failpoint faults: a member restarted with ETCD_FAILPOINTS='<point>=kill@N' (src/pkg/failpoints.ts)
// SIGKILLs itself at the Nth pass of that line (a quarter of the draws: `panic@N`, an error thrown
// there, which must end the process with a non-zero status); the rig brings about what reaches the line (traffic, a
// snapshot sent to or by it, a compaction, a defragment), waits for the death, and restarts the member
// without failpoints: it must come back healthy, and the checks at the end must hold.
import { call, sleep, type Cluster, type Node } from './cluster.js';
import type { FaultCtx } from './faults.js';

type Trigger = 'traffic' | 'snapshot-to-other' | 'snapshot-to-self' | 'compact' | 'defrag';

export interface FailpointSpec {
  point: string;
  /** the member that carries it: the leader (leadership is moved to it once armed) or a follower */
  role: 'leader' | 'follower';
  trigger: Trigger;
  /** N is drawn from 1..maxHit */
  maxHit: number;
  /** more environment for the armed process (a small WAL segment, so that a cut comes soon) */
  env?: Record<string, string>;
  /**
   * false where a thrown error is a failure the member answers and lives on (a snapshot transfer
   * that fails is retried, a failed defragment is the client's error), so only `kill` is drawn
   */
  panics?: false;
}

/** 64 KiB WAL segments for the armed process: a segment cut within seconds of traffic. */
const SMALL_SEGMENTS = { ETCD_TS_WAL_SEGMENT_BYTES: '65536' };

export const FAILPOINTS: FailpointSpec[] = [
  { point: 'walBeforeWrite', role: 'follower', trigger: 'traffic', maxHit: 100 },
  { point: 'walAfterWrite', role: 'leader', trigger: 'traffic', maxHit: 100 },
  { point: 'walAfterSync', role: 'leader', trigger: 'traffic', maxHit: 100 },
  { point: 'walAfterSync', role: 'follower', trigger: 'traffic', maxHit: 100 },
  { point: 'backendBeforeCommit', role: 'leader', trigger: 'traffic', maxHit: 100 },
  { point: 'backendAfterCommit', role: 'follower', trigger: 'traffic', maxHit: 100 },
  // (the save of a snapshot raft hands over in a Ready: one a follower was sent, as in etcd; a member's
  // own snapshots are taken elsewhere, without these points)
  { point: 'raftBeforeSaveSnap', role: 'follower', trigger: 'snapshot-to-self', maxHit: 1 },
  { point: 'raftAfterSaveSnap', role: 'follower', trigger: 'snapshot-to-self', maxHit: 1 },
  { point: 'snapshotBeforeSendDb', role: 'leader', trigger: 'snapshot-to-other', maxHit: 1, panics: false },
  { point: 'snapshotReceiveMidDb', role: 'follower', trigger: 'snapshot-to-self', maxHit: 1, panics: false },
  { point: 'raftBeforeApplySnap', role: 'follower', trigger: 'snapshot-to-self', maxHit: 1 },
  { point: 'backendAfterRenameOld', role: 'follower', trigger: 'snapshot-to-self', maxHit: 1 },
  { point: 'applyAfterBackendSwap', role: 'follower', trigger: 'snapshot-to-self', maxHit: 1 },
  { point: 'raftAfterApplySnap', role: 'follower', trigger: 'snapshot-to-self', maxHit: 1 },
  { point: 'backendBeforeSwap', role: 'follower', trigger: 'snapshot-to-self', maxHit: 1 },
  { point: 'backendAfterRenameNew', role: 'follower', trigger: 'snapshot-to-self', maxHit: 1 },
  { point: 'walCutBeforeRename', role: 'follower', trigger: 'traffic', maxHit: 2, env: SMALL_SEGMENTS },
  { point: 'walCutBeforeRename', role: 'leader', trigger: 'traffic', maxHit: 2, env: SMALL_SEGMENTS },
  { point: 'mvccCompactBatch', role: 'follower', trigger: 'compact', maxHit: 1 },
  { point: 'mvccCompactBatch', role: 'leader', trigger: 'compact', maxHit: 1 },
  { point: 'mvccCompactDone', role: 'leader', trigger: 'compact', maxHit: 1 },
  { point: 'mvccCompactDone', role: 'follower', trigger: 'compact', maxHit: 1 },
  { point: 'defragBeforeCompact', role: 'follower', trigger: 'defrag', maxHit: 1, panics: false },
  { point: 'defragBeforeCompact', role: 'leader', trigger: 'defrag', maxHit: 1, panics: false },
  { point: 'defragAfterCompact', role: 'leader', trigger: 'defrag', maxHit: 1, panics: false },
  { point: 'defragAfterCompact', role: 'follower', trigger: 'defrag', maxHit: 1, panics: false },
];

/** A panicking failpoint ends the process with a non-zero status (etcd's panic exits 2; ours' fatal path 1). */
async function checkPanicEnded(ctx: FaultCtx, nd: Node, point: string, exited: boolean): Promise<void> {
  const thrown = nd.member.logs().includes(`failpoint ${point} triggered`);
  if (!exited) {
    if (thrown) ctx.anomalies.push(`${nd.name} threw at failpoint ${point} (panic) and kept running`);
    return;
  }
  const how = await nd.member.exited();
  ctx.sched(`${nd.name} exited with ${how.signal ?? `status ${how.code}`} after the panic at ${point}`);
  if (how.code === 0) ctx.anomalies.push(`${nd.name} panicked at failpoint ${point} and exited with status 0`);
}

/** Resolves true when the member's current process exits within ms. */
function exitsWithin(nd: Node, ms: number): Promise<boolean> {
  if (!nd.member.alive()) return Promise.resolve(true);
  return Promise.race([nd.member.exited().then(() => true), sleep(ms).then(() => false)]);
}

/** Cut `nd` off for `ms` so that it falls behind the leader's compacted log, then heal. */
async function isolate(c: Cluster, nd: Node, ms: number): Promise<void> {
  for (const x of c.nodes) if (x !== nd) c.net.setPair(nd.name, x.name, { mode: 'drop' });
  await sleep(ms);
  c.net.healAll();
}

async function moveLeader(c: Cluster, to: Node): Promise<string> {
  const l = await c.leader();
  if (!l) return 'no leader to move from';
  if (l === to) return 'already leader';
  try {
    await call(c.clients[c.nodes.indexOf(l)]!.maint, 'MoveLeader', { targetID: BigInt(`0x${to.idHex}`).toString() }, 10_000);
    return `leadership moved from ${l.name}`;
  } catch (e) {
    return `move-leader failed: ${(e as Error).message}`;
  }
}

/**
 * A call retried while the client has no connection yet (its channel may still be backing off from the
 * member's restart: seed 302 lost a Compact that way, so the failpoint was never reached).
 */
async function retried<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      if (attempt >= 10 || !/No connection established|ECONNREFUSED/.test((e as Error).message)) throw e;
      await sleep(500);
    }
  }
}

async function trigger(ctx: FaultCtx, spec: FailpointSpec, target: Node, l: Node): Promise<void> {
  const c = ctx.cluster;
  const i = c.nodes.indexOf(target);
  const swallow = (e: Error) => ctx.sched(`${spec.trigger}: ${e.message}`);
  if (spec.trigger === 'snapshot-to-self') await isolate(c, target, 8000);
  else if (spec.trigger === 'snapshot-to-other') {
    const other = c.nodes.find((x) => x !== target && x !== l && c.up(x)) ?? c.nodes.find((x) => x !== target)!;
    ctx.sched(`isolating ${other.name} for 8 s (it will need a snapshot)`);
    await isolate(c, other, 8000);
  } else if (spec.trigger === 'compact') {
    const rev = Math.max(1, ctx.highestRevision() - 5);
    ctx.compacting(rev);
    await retried(() => call(c.clients[i]!.kv, 'Compact', { revision: String(rev) })).then(() => ctx.compacted(rev), swallow);
  } else if (spec.trigger === 'defrag') {
    await retried(() => call(c.clients[i]!.maint, 'Defragment', {}, 10_000)).catch(swallow);
  }
}

/**
 * `during`, when given, starts a second fault once the member is armed (before the trigger) and ends it
 * once the member died or the wait for it is over (before the restart): a failpoint crash inside a
 * partition.
 */
export async function runFailpoint(ctx: FaultCtx, spec: FailpointSpec, l: Node, f: Node, during?: { start: (target: Node) => void; end: () => void }): Promise<void> {
  const c = ctx.cluster;
  const target = spec.role === 'leader' ? l : f;
  if (target.member.impl !== 'ours') return ctx.sched(`failpoint ${spec.point}: ${target.name} is not ours, skipped`);
  const hit = 1 + Math.floor(ctx.rng() * spec.maxHit);
  // kill: SIGKILL at the point (a power cut for the process); panic: an error thrown there, which
  // must end the process with a non-zero status, never be swallowed while it serves on
  const action = spec.panics === false ? 'kill' : (process.env.ROBUSTNESS_FAILPOINT_ACTION ?? (ctx.rng() < 0.25 ? 'panic' : 'kill'));
  ctx.sched(`failpoint ${spec.point}=${action}@${hit} on ${target.name} (${spec.role}), reached by ${spec.trigger}`);
  await c.restart(target, { ETCD_FAILPOINTS: `${spec.point}=${action}@${hit}`, ...spec.env });
  const err = await c.healthy([target], 60_000);
  if (err && target.member.alive()) ctx.anomalies.push(`${target.name} armed with ${spec.point} not healthy within 60 s: ${err}`);
  if (target.member.alive() && spec.role === 'leader') ctx.sched(await moveLeader(c, target));
  if (during && target.member.alive()) during.start(target);
  if (target.member.alive()) await trigger(ctx, spec, target, l);
  const fired = await exitsWithin(target, spec.trigger === 'traffic' ? 15_000 : 8000);
  during?.end();
  ctx.sched(fired ? `${target.name} died at ${spec.point}` : `${spec.point} not reached on ${target.name}; restarting it anyway`);
  if (action === 'panic') await checkPanicEnded(ctx, target, spec.point, fired);
  if (fired) target.pastLogs.push(target.member.logs());
  await c.restart(target);
  const t1 = performance.now();
  const e2 = await c.healthy([target], 60_000);
  if (e2) ctx.anomalies.push(`${target.name} not healthy within 60 s after dying at ${spec.point}: ${e2}`);
  ctx.sched(`${target.name} ${e2 ? 'NOT healthy' : `healthy after ${(performance.now() - t1).toFixed(0)} ms`}`);
}
