// The faults of a robustness run and the profiles that draw from them. One fault at a time, held
// 2–4 s (a failpoint or a snapshot takes longer), each followed by a pause; the fault loop waits until
// a restarted member is healthy before the next one (a member that does not start again is an anomaly).
import { sleep, type Cluster, type Node } from './cluster.js';
import { runCombined } from './faults-combined.js';
import { FAILPOINTS, runFailpoint } from './failpoint-faults.js';
import { tearWalTail } from './wal-tear.js';

export type FaultKind =
  | 'kill-all' | 'isolate-kill-leader' | 'kill-leader' | 'kill-follower' | 'kill-follower-torn-wal'
  | 'pause-leader' | 'pause-follower'
  | 'isolate-leader' | 'isolate-follower' | 'one-way-leader' | 'one-way-follower' | 'one-way-to-leader'
  | 'partition-leader-minority' | 'partition-leader-majority' | 'bridge' | 'delay'
  | 'replace-follower' | 'replace-leader' | 'failpoint'
  | CombinedKind;

/** Two faults at once, overlapping in time (faults-combined.ts). */
export type CombinedKind = 'partition-kill-majority' | 'pause-leader-restart-follower' | 'isolate-follower-kill-leader' | 'one-way-leader-kill-follower' | 'failpoint-during-partition';
export const COMBINED: CombinedKind[] = ['partition-kill-majority', 'pause-leader-restart-follower', 'isolate-follower-kill-leader', 'one-way-leader-kill-follower', 'failpoint-during-partition'];

const PARTITIONS: FaultKind[] = ['isolate-leader', 'isolate-follower', 'one-way-leader', 'one-way-follower', 'one-way-to-leader', 'partition-leader-minority', 'partition-leader-majority', 'bridge', 'delay'];

export const PROFILES: Record<string, FaultKind[]> = {
  kill: ['kill-leader', 'kill-follower'],
  pause: ['pause-leader', 'pause-follower'],
  partition: PARTITIONS,
  /** followers fall behind the leader's compacted log and must be sent a snapshot (see PROFILE_CLUSTER) */
  snapshot: ['kill-follower', 'isolate-follower', 'replace-follower'],
  /** every member killed at once; the leader killed while it is cut off; a killed follower's WAL torn */
  crash: ['kill-all', 'isolate-kill-leader', 'kill-leader', 'kill-follower-torn-wal'],
  membership: ['replace-follower', 'replace-leader'],
  /** the short CI run, in this order (SEQUENCED): a combined fault, a follower's WAL tail torn, the leader killed */
  ci: ['pause-leader-restart-follower', 'kill-follower-torn-wal', 'kill-leader'],
  failpoint: ['failpoint'],
  /** two faults at once, overlapping (faults-combined.ts) */
  combined: COMBINED,
  none: [],
  all: [...COMBINED, 'kill-all', 'isolate-kill-leader', 'kill-leader', 'kill-follower', 'kill-follower-torn-wal', 'pause-leader', 'pause-follower', ...PARTITIONS, 'replace-follower', 'replace-leader', 'failpoint'],
};

/** Profiles whose faults come in their listed order instead of drawn (a short run gets the first ones). */
export const SEQUENCED = new Set(['ci']);

/** Cluster settings of a profile: snapshots every 100 entries, only 50 kept behind (followers get snapshots). */
const SNAPSHOTTING = { args: ['--snapshot-count', '100'], env: { ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES: '50' } };
export const PROFILE_CLUSTER: Record<string, { args: string[]; env: Record<string, string> }> = {
  snapshot: SNAPSHOTTING,
  failpoint: SNAPSHOTTING,
  membership: SNAPSHOTTING,
  combined: SNAPSHOTTING,
  all: SNAPSHOTTING,
};

export interface FaultCtx {
  cluster: Cluster;
  rng: () => number;
  sched: (s: string) => void;
  anomalies: string[];
  /** the highest revision acknowledged so far (compaction triggers) */
  highestRevision: () => number;
  /** a compaction to this revision was requested (the checkers allow for what it removes) */
  compacting: (rev: number) => void;
  /** ...and acknowledged (the final watches start at it) */
  compacted: (rev: number) => void;
}

export const others = (c: Cluster, nd: Node) => c.nodes.filter((x) => x !== nd);

/** Cut every link between the groups (both ways). */
export function partition(c: Cluster, groups: Node[][]): void {
  for (let i = 0; i < groups.length; i++) for (let j = i + 1; j < groups.length; j++) for (const a of groups[i]!) for (const b of groups[j]!) c.net.setPair(a.name, b.name, { mode: 'drop' });
}

export function shuffle<T>(a: T[], rng: () => number): T[] {
  const r = [...a];
  for (let i = r.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [r[i], r[j]] = [r[j]!, r[i]!];
  }
  return r;
}

/** A member that should come back: healthy within 60 s, or an anomaly with its log tail. */
export async function expectHealthy(ctx: FaultCtx, nds: Node[], why: string, ms = 60_000): Promise<void> {
  const t1 = performance.now();
  const err = await ctx.cluster.healthy(nds, ms);
  if (err) ctx.anomalies.push(`${nds.map((x) => x.name).join(', ')} not healthy within ${ms / 1000} s after ${why}: ${err}`);
  ctx.sched(`${nds.map((x) => x.name).join(', ')} ${err ? 'NOT healthy' : `healthy after ${(performance.now() - t1).toFixed(0)} ms`}`);
}

/** Run one fault of this kind against the current leader `l` (the fault loop found it). */
export async function runFault(ctx: FaultCtx, drawn: FaultKind, l: Node): Promise<void> {
  const { cluster: c, rng, sched } = ctx;
  const pick = <T>(a: T[]): T => a[Math.floor(rng() * a.length)]!;
  const kind = c.n === 1 ? soleMemberFault(drawn, pick) : drawn;
  if (kind !== drawn) sched(`${drawn} needs other members; one member: ${kind} instead`);
  const hold = 2000 + rng() * 2000;
  const target = kind.endsWith('leader') || kind === 'one-way-to-leader' || c.n === 1 ? l : pick(others(c, l));
  const holdThenHeal = async () => {
    await sleep(hold);
    c.net.healAll();
    sched('healed');
  };
  switch (kind) {
    case 'kill-all': {
      sched(`kill-all: SIGKILL every member, restart after ${hold.toFixed(0)} ms`);
      await Promise.all(c.nodes.map((x) => c.kill(x)));
      await sleep(hold);
      for (const x of c.nodes) await c.restart(x);
      return expectHealthy(ctx, c.nodes, 'kill-all', 90_000);
    }
    case 'isolate-kill-leader': {
      sched(`isolate-kill-leader: drop every link of ${target.name}, SIGKILL it 1 s later, restart it still cut off, heal after ${hold.toFixed(0)} ms`);
      partition(c, [[target], others(c, target)]);
      await sleep(1000);
      await c.kill(target);
      await c.restart(target);
      await holdThenHeal();
      return expectHealthy(ctx, [target], kind);
    }
    case 'kill-leader':
    case 'kill-follower':
    case 'kill-follower-torn-wal': {
      sched(`${kind}: SIGKILL ${target.name}, restart after ${hold.toFixed(0)} ms`);
      await c.kill(target);
      if (kind === 'kill-follower-torn-wal') sched(`${target.name}: ${tearWalTail(target.member.dataDir, rng)}`);
      await sleep(hold);
      await c.restart(target);
      return expectHealthy(ctx, [target], kind);
    }
    case 'pause-leader':
    case 'pause-follower': {
      sched(`${kind}: SIGSTOP ${target.name} for ${hold.toFixed(0)} ms`);
      target.paused = true;
      process.kill(target.member.pid, 'SIGSTOP');
      await sleep(hold);
      process.kill(target.member.pid, 'SIGCONT');
      target.paused = false;
      sched(`SIGCONT ${target.name}`);
      return;
    }
    case 'isolate-leader':
    case 'isolate-follower':
      sched(`${kind}: drop every link of ${target.name} for ${hold.toFixed(0)} ms`);
      partition(c, [[target], others(c, target)]);
      return holdThenHeal();
    case 'one-way-leader':
    case 'one-way-follower':
      sched(`${kind}: blackhole ${target.name} → others for ${hold.toFixed(0)} ms (it still hears them)`);
      for (const x of others(c, target)) c.net.set(target.name, x.name, { mode: 'blackhole' });
      return holdThenHeal();
    case 'one-way-to-leader':
      sched(`${kind}: blackhole others → ${target.name} for ${hold.toFixed(0)} ms (it still reaches them)`);
      for (const x of others(c, target)) c.net.set(x.name, target.name, { mode: 'blackhole' });
      return holdThenHeal();
    case 'partition-leader-minority':
    case 'partition-leader-majority': {
      // the leader's side is a minority (it must lose leadership; the majority elects) or a majority
      // (the cut-off followers must not disturb it); with 3 members the minority is one member
      const rest = shuffle(others(c, l), rng);
      const minority = Math.floor((c.n - 1) / 2);
      const leaderSide = kind === 'partition-leader-minority' ? [l, ...rest.slice(0, minority - 1)] : [l, ...rest.slice(0, c.n - minority - 1)];
      const otherSide = c.nodes.filter((x) => !leaderSide.includes(x));
      sched(`${kind}: {${leaderSide.map((x) => x.name)}} | {${otherSide.map((x) => x.name)}} for ${hold.toFixed(0)} ms`);
      partition(c, [leaderSide, otherSide]);
      return holdThenHeal();
    }
    case 'bridge': {
      // one member (leader or not) hears both halves, which do not hear each other
      const bridge = pick(c.nodes);
      const rest = shuffle(others(c, bridge), rng);
      const half = Math.ceil(rest.length / 2);
      const [a, b] = [rest.slice(0, half), rest.slice(half)];
      sched(`bridge: {${a.map((x) => x.name)}} | {${b.map((x) => x.name)}}, ${bridge.name}${bridge === l ? ' (leader)' : ''} in both, for ${hold.toFixed(0)} ms`);
      partition(c, [a, b]);
      return holdThenHeal();
    }
    case 'delay':
      sched(`delay every link 100±50 ms for ${hold.toFixed(0)} ms`);
      for (const a of c.nodes) for (const b of c.nodes) if (a !== b) c.net.set(a.name, b.name, { mode: 'delay', delayMs: 100, jitterMs: 50 });
      return holdThenHeal();
    case 'replace-follower':
    case 'replace-leader': {
      sched(`${kind}: member remove ${target.name}, wipe its data, member add, start it as existing`);
      try {
        await c.replace(target, sched);
      } catch (e) {
        sched(`${kind} refused: ${(e as Error).message}`);
        if (!target.member.alive()) await c.restart(target);
      }
      return expectHealthy(ctx, [target], kind, 90_000);
    }
    case 'partition-kill-majority':
    case 'pause-leader-restart-follower':
    case 'isolate-follower-kill-leader':
    case 'one-way-leader-kill-follower':
    case 'failpoint-during-partition':
      return runCombined(ctx, kind, l);
    case 'failpoint': {
      // ROBUSTNESS_FAILPOINTS=a,b narrows the draw to those points
      const only = process.env.ROBUSTNESS_FAILPOINTS?.split(',');
      const fits = c.n === 1 ? FAILPOINTS.filter((f) => f.role === 'leader' && f.trigger !== 'snapshot-to-other') : FAILPOINTS;
      const specs = only ? fits.filter((f) => only.includes(f.point)) : fits;
      return runFailpoint(ctx, pick(specs.length ? specs : fits), l, c.n === 1 ? l : pick(others(c, l)));
    }
  }
}

/**
 * What a fault becomes when the cluster has one member: no link to cut, no follower, no member to
 * replace it with. Its own kill, pause, torn WAL tail, failpoints and kill-all stay as drawn.
 */
export function soleMemberFault(kind: FaultKind, pick: <T>(a: T[]) => T): FaultKind {
  const stays: FaultKind[] = ['kill-leader', 'pause-leader', 'kill-all', 'kill-follower-torn-wal', 'failpoint'];
  if (stays.includes(kind)) return kind;
  if (kind === 'kill-follower' || kind === 'replace-leader' || kind === 'replace-follower') return 'kill-leader';
  if (kind === 'pause-follower') return 'pause-leader';
  if (kind === 'failpoint-during-partition') return 'failpoint';
  return pick(['kill-leader', 'pause-leader', 'kill-follower-torn-wal']);
}
