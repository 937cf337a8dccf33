// Combined faults: two faults at once, overlapping in time, so that the cluster meets the second while
// it is still dealing with the first (a partition and a crash on the side that holds the majority, a
// stopped leader while a follower restarts, a failpoint crash inside a partition, ...). Each one ends
// healed, with every member it killed restarted and healthy; the same checkers judge the run.
import { sleep, type Node } from './cluster.js';
import { FAILPOINTS, runFailpoint } from './failpoint-faults.js';
import { expectHealthy, others, partition, shuffle, type CombinedKind, type FaultCtx } from './faults.js';

export async function runCombined(ctx: FaultCtx, kind: CombinedKind, l: Node): Promise<void> {
  const { cluster: c, rng, sched } = ctx;
  const pick = <T>(a: T[]): T => a[Math.floor(rng() * a.length)]!;
  const hold = 2000 + rng() * 2000;
  const heal = () => {
    c.net.healAll();
    sched('healed');
  };
  switch (kind) {
    case 'partition-kill-majority': {
      // the leader cut off with the smaller side; then a member of the larger side killed: no side has
      // a quorum until it is back (with 3 members, a lone follower is left to wait for it)
      const rest = shuffle(others(c, l), rng);
      const minority = Math.floor((c.n - 1) / 2);
      const leaderSide = [l, ...rest.slice(0, minority - 1)];
      const majority = c.nodes.filter((x) => !leaderSide.includes(x));
      const victim = pick(majority);
      sched(`${kind}: {${leaderSide.map((x) => x.name)}} | {${majority.map((x) => x.name)}}, SIGKILL ${victim.name} 1 s later, restart it after ${hold.toFixed(0)} ms, heal 1 s after that`);
      partition(c, [leaderSide, majority]);
      await sleep(1000);
      await c.kill(victim);
      await sleep(hold);
      await c.restart(victim);
      await sleep(1000);
      heal();
      return expectHealthy(ctx, [victim], kind);
    }
    case 'pause-leader-restart-follower': {
      // a follower killed; while it is down the leader is SIGSTOPped; the follower restarts and must
      // elect a new leader with the other followers while the old one sleeps
      const f = pick(others(c, l));
      sched(`${kind}: SIGKILL ${f.name}, SIGSTOP ${l.name} 500 ms later, restart ${f.name}, SIGCONT ${l.name} after ${hold.toFixed(0)} ms`);
      await c.kill(f);
      await sleep(500);
      l.paused = true;
      process.kill(l.member.pid, 'SIGSTOP');
      await c.restart(f);
      await sleep(hold);
      process.kill(l.member.pid, 'SIGCONT');
      l.paused = false;
      sched(`SIGCONT ${l.name}`);
      return expectHealthy(ctx, [f], kind);
    }
    case 'isolate-follower-kill-leader': {
      // a follower cut off, then the leader killed: no quorum until the leader is back, and the
      // follower (its term raised by campaigning alone) rejoins after
      const f = pick(others(c, l));
      sched(`${kind}: drop every link of ${f.name}, SIGKILL ${l.name} 500 ms later, restart it after ${hold.toFixed(0)} ms, heal 1 s after that`);
      partition(c, [[f], others(c, f)]);
      await sleep(500);
      await c.kill(l);
      await sleep(hold);
      await c.restart(l);
      await sleep(1000);
      heal();
      return expectHealthy(ctx, [l], kind);
    }
    case 'one-way-leader-kill-follower': {
      // the leader's messages blackholed (it still hears the others) and a follower killed meanwhile
      const f = pick(others(c, l));
      sched(`${kind}: blackhole ${l.name} → others, SIGKILL ${f.name} 500 ms later, restart it after ${hold.toFixed(0)} ms, heal 1 s after that`);
      for (const x of others(c, l)) c.net.set(l.name, x.name, { mode: 'blackhole' });
      await sleep(500);
      await c.kill(f);
      await sleep(hold);
      await c.restart(f);
      await sleep(1000);
      heal();
      return expectHealthy(ctx, [f], kind);
    }
    case 'failpoint-during-partition': {
      // a member armed with a crash point reached by traffic, a compaction or a defragment; once it is
      // armed another member is cut off, and the partition lasts until the armed one died (or the wait
      // for it ended)
      const only = process.env.ROBUSTNESS_FAILPOINTS?.split(',');
      const usable = FAILPOINTS.filter((f) => !f.trigger.startsWith('snapshot'));
      const specs = only ? usable.filter((f) => only.includes(f.point)) : usable;
      const spec = pick(specs.length ? specs : usable);
      const f = pick(others(c, l));
      return runFailpoint(ctx, spec, l, f, {
        start: (target) => {
          const cut = pick(others(c, target));
          sched(`${kind}: drop every link of ${cut.name}${cut === l ? ' (leader)' : ''} while ${target.name} is armed`);
          partition(c, [[cut], others(c, cut)]);
        },
        end: heal,
      });
    }
  }
}
