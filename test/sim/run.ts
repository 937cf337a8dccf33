// Run one seed: a fault phase, then the network heals and every member restarts (members added but not yet
// started start now; removed ones stay down), and the cluster must elect a leader, commit a new proposal
// and converge (liveness): every member of the final configuration reaches the same state, every removed
// member has stopped, and every acknowledged write is kept.
import { Violation } from './checker.js';
import { type SimOptions, type SimResult, Simulation } from './sim.js';
import { Rng } from './rng.js';

export const defaultFaultTicks = 400;
/** After healing: ticks allowed to elect a leader and commit a proposal, then to converge. */
const livenessTicks = 400;
const convergeTicks = 200;

export function runSeed(opts: SimOptions): SimResult {
  const n = opts.nodes ?? (new Rng(opts.seed ^ 0x5bd1e995).chance(0.5) ? 3 : 5);
  const sim = new Simulation(opts.seed, n, opts.trace ?? false);
  let error: string | undefined;
  try {
    const faultTicks = opts.faultTicks ?? defaultFaultTicks;
    for (let i = 0; i < faultTicks; i++) sim.step();
    heal(sim);
    checkLiveness(sim);
    checkConvergence(sim);
  } catch (e) {
    if (e instanceof Violation) error = e.message;
    else error = `exception: ${(e as Error).stack ?? String(e)}`;
    sim.log(`VIOLATION: ${error}`);
  }
  return { seed: opts.seed, nodes: n, ok: error === undefined, error, trace: sim.trace, stats: { ...sim.stats, delivered: sim.net.delivered } };
}

function heal(sim: Simulation): void {
  sim.faultsOn = false;
  sim.net.heal();
  sim.net.faults = { dropRate: 0, dupRate: 0, maxDelayTicks: sim.net.faults.maxDelayTicks };
  sim.members.tick(true);
  for (const n of sim.nodes) if (!n.alive && !n.removed) sim.restart(n);
  sim.log('--- healed: network whole, every member up ---');
}

function checkLiveness(sim: Simulation): void {
  const value = 'final';
  let proposedAt = -1000;
  for (let i = 0; i < livenessTicks; i++) {
    sim.step();
    if (sim.acked.has(value)) return;
    const lead = sim.leader();
    if (lead && sim.now - proposedAt > 50 && sim.propose(lead, value)) proposedAt = sim.now;
  }
  sim.checker.fail(`liveness: no proposal committed within ${livenessTicks} ticks after healing (leader: ${sim.leader()?.id ?? 'none'})`);
}

/**
 * The members of the final configuration (the leader's) are the live nodes, all in the leader's state, and
 * that state holds everything committed: the leader has committed an entry of its own term and applied
 * it. (A removed leader may commit entries and stop before any member learns they are committed.)
 */
function converged(sim: Simulation): boolean {
  const lead = sim.leader();
  if (!lead) return false;
  const r = lead.raw!.raft;
  if (!r.committedEntryInCurrentTerm() || lead.app.appliedIndex !== r.raftLog.committed) return false;
  const cs = r.prs.confState();
  const members = new Set([...cs.voters, ...cs.learners]);
  const a = lead.app;
  return sim.nodes.every((n) => (members.has(n.id)
    ? n.alive && n.app.appliedIndex === a.appliedIndex && n.app.hash === a.hash
    : !n.alive));
}

function checkConvergence(sim: Simulation): void {
  sim.clientsOn = false;
  for (let i = 0; i < convergeTicks && !converged(sim); i++) sim.step();
  if (!converged(sim)) {
    const cs = sim.leader()?.raw!.raft.prs.confState();
    const states = sim.nodes.map((n) => `n${n.id}${n.removed ? '(removed)' : n.alive ? '' : '(down)'}@${n.app.appliedIndex}`).join(' ');
    sim.checker.fail(`liveness: members did not converge within ${convergeTicks} ticks: ${states}; leader's configuration ${JSON.stringify(cs, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}`);
  }
  const applied = sim.leader()!.app.appliedIndex;
  for (const [v, idx] of sim.acked) {
    if (idx > applied) sim.checker.fail(`durability: acknowledged ${v} at ${idx} is beyond the converged state ${applied}`);
    if (sim.checker.textAt.get(idx) !== v) sim.checker.fail(`durability: acknowledged ${v} at ${idx} but ${sim.checker.textAt.get(idx)} was applied there`);
  }
}
