/*
 * The WAL over the simulated disk (test/sim/disk.ts), crashed at a random operation, for many seeds.
 * Each seed: random raft-like saves (entries, overwrites of the uncommitted suffix, hard states, the
 * inline and pool paths, mustSync or not, snapshot markers, releaseTo, segment cuts of a small
 * segment), some issued before the previous one resolved; the disk crashes at a random operation
 * (before, inside or after it; or between operations at the end); then reopen as the server does.
 *
 * Checked after the crash, against the history of records the saves issued (entries, hard states,
 * markers, in order): what the WAL gives back is the replay of a prefix of that history which holds
 * every save that resolved durably (mustSync, saveSnapshot, sync); a reopen after another crash gives
 * the same; saves after the recovery are there after a third open.
 *
 *   CRASH_SIM_SEEDS=5000 npx vitest run test/unit/wal/crash-sim.test.ts   (more seeds)
 *   CRASH_SIM_SEED=123 npx vitest run test/unit/wal/crash-sim.test.ts     (one seed, with its trace)
 */
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/pkg/logger.js';
import { EntryType, type Entry, type HardState } from '../../../src/raft/types.js';
import { WAL, type WalSnapshotMarker, type WalSyncMode } from '../../../src/wal/index.js';
import { SimCrash, SimDisk } from '../../sim/disk.js';
import { Rng } from '../../sim/rng.js';

const DEFAULT_SEEDS = 400;
const WAL_DIR = '/data/member/wal';

type Rec = { kind: 'entry'; e: Entry } | { kind: 'hs'; hs: HardState } | { kind: 'marker'; m: WalSnapshotMarker };

interface Recovered {
  from: WalSnapshotMarker;
  hardState: HardState;
  entries: Entry[];
  lastIndex: number;
}

/** What replaying the first `n` records gives when opened from the newest usable marker. */
function replay(recs: Rec[], n: number): Recovered {
  let hardState: HardState = { term: 0, vote: 0n, commit: 0 };
  const entries: Entry[] = [];
  const markers: WalSnapshotMarker[] = [{ index: 0, term: 0 }];
  for (const r of recs.slice(0, n)) {
    if (r.kind === 'hs') hardState = r.hs;
    else if (r.kind === 'marker') markers.push(r.m);
    else {
      entries.length = r.e.index - 1;
      entries[r.e.index - 1] = r.e;
    }
  }
  const from = markers.filter((m) => m.index <= hardState.commit).reduce((a, b) => (b.index >= a.index ? b : a));
  return { from, hardState, entries: entries.slice(from.index), lastIndex: Math.max(entries.length, from.index) };
}

const show = (r: Recovered): string =>
  `from ${r.from.index}/${r.from.term} hs ${r.hardState.term}/${r.hardState.vote}/${r.hardState.commit} entries ${r.entries.map((e) => `${e.index}.${e.term}:${e.data.length}`).join(' ')}`;

function same(a: Recovered, b: Recovered): boolean {
  return show(a) === show(b) && a.entries.every((e, i) => Buffer.from(e.data).equals(Buffer.from(b.entries[i]!.data)));
}

function randomData(rng: Rng, max: number): Uint8Array {
  const d = new Uint8Array(rng.int(0, max));
  for (let i = 0; i < d.length; i++) d[i] = rng.int(0, 255);
  return d;
}

/** The raft-like state the workload keeps, and every record it had the WAL write. */
class Workload {
  recs: Rec[] = [];
  /** Records that some resolved durable operation covers. */
  synced = 0;
  lastIndex = 0;
  term = 1;
  commit = 0;
  /** Term of each index written (1-based). */
  terms: number[] = [];
  lastMarker = 0;
  trace: string[] = [];

  constructor(
    readonly rng: Rng,
    public wal: WAL,
  ) {}

  /** Go on after a recovery that gave back the first `keep` records, with the reopened WAL. */
  resume(wal: WAL, keep: number): void {
    this.wal = wal;
    this.recs.length = keep;
    this.synced = keep;
    this.terms = [];
    this.lastIndex = 0;
    this.commit = 0;
    this.lastMarker = 0;
    for (const r of this.recs) {
      if (r.kind === 'entry') {
        this.terms.length = r.e.index - 1;
        this.terms.push(r.e.term);
        this.lastIndex = r.e.index;
        this.term = Math.max(this.term, r.e.term);
      } else if (r.kind === 'hs') this.commit = r.hs.commit;
      else this.lastMarker = Math.max(this.lastMarker, r.m.index);
    }
    this.trace.push(`-- recovered ${keep} records: last index ${this.lastIndex}, commit ${this.commit}`);
  }

  /** `steps` batches of one to four operations, until the disk crashes; close at the end now and then. */
  async run(disk: SimDisk, steps: number): Promise<void> {
    for (let step = 0; step < steps && !disk.isCrashed; step++) {
      const batch = Array.from({ length: this.rng.chance(0.3) ? this.rng.int(2, 4) : 1 }, () => this.issue());
      await Promise.all(batch);
    }
    if (this.rng.chance(0.2)) await this.wal.close();
  }

  /** Issue one operation; its promise resolves when the WAL says so. */
  issue(): Promise<void> {
    const r = this.rng.next();
    if (r < 0.6) return this.saveEntries();
    if (r < 0.75) return this.saveState();
    if (r < 0.87 && this.commit > this.lastMarker) return this.snapshot();
    if (r < 0.93) return this.track(this.wal.sync(), 'sync', this.recs.length);
    return this.saveEntries();
  }

  private saveEntries(): Promise<void> {
    const rng = this.rng;
    // Overwrite the uncommitted suffix now and then (a new leader's log), else append.
    const first = this.lastIndex > this.commit && rng.chance(0.2) ? rng.int(this.commit + 1, this.lastIndex) : this.lastIndex + 1;
    if (first <= this.lastIndex) this.term++;
    const entries: Entry[] = [];
    for (let i = 0, n = rng.int(1, 6); i < n; i++) {
      entries.push({ index: first + i, term: this.term, type: EntryType.EntryNormal, data: randomData(rng, rng.chance(0.2) ? 1500 : 200) });
    }
    this.lastIndex = first + entries.length - 1;
    this.terms.length = first - 1;
    for (const e of entries) this.terms.push(e.term);
    for (const e of entries) this.recs.push({ kind: 'entry', e });
    const hs = rng.chance(0.6) ? this.nextState() : undefined;
    if (hs) this.recs.push({ kind: 'hs', hs });
    const mustSync = rng.chance(0.75);
    const inline = rng.chance(0.5);
    const desc = `save ${first}..${this.lastIndex} t${this.term}${hs ? ` commit ${hs.commit}` : ''}${mustSync ? ' sync' : ''}${inline ? ' inline' : ''}`;
    return this.track(this.wal.save(hs, entries, mustSync, inline), desc, mustSync ? this.recs.length : undefined);
  }

  private saveState(): Promise<void> {
    const hs = this.nextState();
    this.recs.push({ kind: 'hs', hs });
    const mustSync = this.rng.chance(0.75);
    return this.track(this.wal.save(hs, [], mustSync, this.rng.chance(0.5)), `state commit ${hs.commit}${mustSync ? ' sync' : ''}`, mustSync ? this.recs.length : undefined);
  }

  private nextState(): HardState {
    this.commit = this.rng.int(this.commit, this.lastIndex);
    return { term: this.term, vote: BigInt(this.rng.int(0, 3)), commit: this.commit };
  }

  private snapshot(): Promise<void> {
    const index = this.rng.int(this.lastMarker + 1, this.commit);
    const m = { index, term: this.terms[index - 1]! };
    this.lastMarker = index;
    this.recs.push({ kind: 'marker', m });
    const p = this.track(this.wal.saveSnapshot(m), `snapshot ${index}/${m.term}`, this.recs.length);
    if (!this.rng.chance(0.7)) return p;
    // As the server: release only after the marker is durable.
    return p.then(() => this.track(this.wal.releaseTo(index), `releaseTo ${index}`, undefined));
  }

  private track(p: Promise<void>, desc: string, durableUpTo: number | undefined): Promise<void> {
    this.trace.push(desc);
    return p.then(() => {
      this.trace.push(`  ok: ${desc}`);
      if (durableUpTo !== undefined) this.synced = Math.max(this.synced, durableUpTo);
    });
  }
}

/** Counts of what the runs went through (the test reports them, so a change that stops exercising one shows). */
export const stats = { seeds: 0, crashes: 0, repaired: 0, cuts: 0, released: 0, crashInside: 0, crashBefore: 0, crashAfter: 0, crashBetween: 0, lostSaves: 0 };

/** Just enough of a pino logger to count the WAL's messages. */
function countingLogger(): Logger {
  const logger = {
    child: () => logger,
    info: (_o: unknown, msg?: string) => {
      if (msg === 'cut WAL segment') stats.cuts++;
      if (msg === 'released WAL segments') stats.released++;
    },
    warn: (_o: unknown, msg?: string) => {
      if (msg === 'repaired torn WAL tail') stats.repaired++;
    },
  };
  return logger as unknown as Logger;
}

async function openAsServer(disk: SimDisk, opts: { segmentBytes: number; syncMode: WalSyncMode }): Promise<{ wal: WAL; got: Recovered } | undefined> {
  if (!(await WAL.exists(WAL_DIR, disk))) return undefined;
  const markers = await WAL.snapshotMarkers(WAL_DIR, disk);
  const from = markers.reduce((a, b) => (b.index >= a.index ? b : a), { index: 0, term: 0 });
  const o = await WAL.open(WAL_DIR, from, { ...opts, disk, logger: countingLogger() });
  return { wal: o.wal, got: { from, hardState: o.hardState, entries: o.entries, lastIndex: o.wal.lastIndex } };
}

/** Steps of a round and the operation the disk crashes at (about 4 per step: mostly inside the round). */
function crashPlan(rng: Rng, disk: SimDisk): number {
  const steps = rng.int(5, 60);
  disk.crashAtOp = disk.opCount + rng.int(1, steps * 4 + 20);
  return steps;
}

/** One seed; throws with a report if a property fails. */
export async function runSeed(seed: number): Promise<void> {
  const rng = new Rng(seed);
  const segmentBytes = rng.pick([2048, 4096, 8192]);
  const syncMode = rng.pick(['dsync', 'fdatasync'] as const);
  const opts = { segmentBytes, syncMode, logger: countingLogger() };
  const rounds = rng.int(1, 3);
  const yields = rng.pick([0, 0, 3]);
  let disk = new SimDisk({ seed: rng.int(0, 2 ** 31), yields });
  const trace: string[] = [`seed ${seed}: segmentBytes ${segmentBytes} ${syncMode} rounds ${rounds} yields ${yields}`];
  let w: Workload | undefined;
  const fail = (msg: string): never => {
    throw new Error(`${msg}\n${[...trace, ...(w?.trace ?? [])].join('\n')}\nreplay: CRASH_SIM_SEED=${seed} npx vitest run test/unit/wal/crash-sim.test.ts`);
  };
  const crashed = async (run: () => Promise<void>): Promise<void> => {
    await run().catch((err: unknown) => {
      if (!(err instanceof SimCrash)) fail(`unexpected error before the crash: ${(err as Error).stack ?? String(err)}`);
    });
    disk.crash();
    (w?.trace ?? trace).push(`-- ${disk.crashNote}`);
    stats.crashes++;
    const kind = /^crash (inside|before|after)/.exec(disk.crashNote)?.[1] ?? 'between';
    const key = `crash${kind[0]!.toUpperCase()}${kind.slice(1)}` as 'crashInside';
    stats[key]++;
  };

  stats.seeds++;
  let steps = crashPlan(rng, disk);
  await crashed(async () => {
    await disk.mkdir('/data', { recursive: true });
    await disk.fsyncDir('/');
    w = new Workload(rng, await WAL.create(WAL_DIR, { memberId: 1n, clusterId: 2n }, { ...opts, disk }));
    await w.run(disk, steps);
  });
  let wal: WAL | undefined;
  let base: Recovered | undefined;
  for (let round = 1; round <= rounds; round++) {
    const recs = w?.recs ?? [];
    const synced = w?.synced ?? 0;
    // 1. Reopen as the server does: a prefix of the history, holding every durable save.
    disk = disk.restart({ yields });
    const first = await openAsServer(disk, opts).catch((err: unknown) => fail(`open after crash ${round} failed: ${(err as Error).stack}`));
    if (!first) {
      if (synced > 0) fail(`the WAL is gone after crash ${round}, but ${synced} records were durable`);
      return;
    }
    let match = -1;
    for (let n = recs.length; n >= synced && match < 0; n--) if (same(first.got, replay(recs, n))) match = n;
    if (match < 0) {
      fail(`recovered state after crash ${round} is no prefix of the history holding its ${synced} durable records of ${recs.length}:\n  got      ${show(first.got)}\n  durable  ${show(replay(recs, synced))}\n  all      ${show(replay(recs, recs.length))}`);
    }
    if (match < recs.length) stats.lostSaves++;
    await first.wal.close();

    // 2. Reopen after another crash (the repair must itself be durable): the same.
    disk = disk.restart({ yields });
    const second = await openAsServer(disk, opts).catch((err: unknown) => fail(`second open after crash ${round} failed: ${(err as Error).stack}`));
    if (!second || !same(second.got, first.got)) fail(`second open after crash ${round} differs:\n  first  ${show(first.got)}\n  second ${show(second ? second.got : first.got)}`);
    wal = second!.wal;
    base = second!.got;
    if (round === rounds) break;

    // Another round of saves from the recovered state (over the repaired tail), and another crash.
    w ??= new Workload(rng, wal); // the crash came after create had done its work
    w.resume(wal, match);
    steps = crashPlan(rng, disk);
    await crashed(() => w!.run(disk, steps));
  }

  // 3. Append after the last recovery, crash or close, reopen: everything appended is there.
  const term = Math.max(base!.hardState.term, ...base!.entries.map((e) => e.term)) + 1;
  const more: Entry[] = [];
  for (let i = 0, n = rng.int(1, 8); i < n; i++) more.push({ index: wal!.lastIndex + 1 + i, term, type: EntryType.EntryNormal, data: randomData(rng, 900) });
  const hs = { term, vote: 1n, commit: base!.hardState.commit };
  await wal!.save(hs, more, true, rng.chance(0.5)).catch((err: unknown) => fail(`save after recovery failed: ${(err as Error).stack}`));
  if (rng.chance(0.5)) await wal!.close();
  disk = disk.restart();
  const third = await openAsServer(disk, opts).catch((err: unknown) => fail(`open after the last append failed: ${(err as Error).stack}`));
  const want: Recovered = { from: base!.from, hardState: hs, entries: [...base!.entries.filter((e) => e.index < more[0]!.index), ...more], lastIndex: more[more.length - 1]!.index };
  if (!third || !same(third.got, want)) fail(`after appending:\n  want ${show(want)}\n  got  ${third ? show(third.got) : 'no WAL'}`);
  await third!.wal.close();
}

describe('WAL over a crashing simulated disk', () => {
  const one = process.env.CRASH_SIM_SEED;
  const count = Number(process.env.CRASH_SIM_SEEDS ?? DEFAULT_SEEDS);
  it(one ? `seed ${one}` : `${count} seeds: every durable save survives, the rest is a prefix, repair is durable, appending works`, async () => {
    const seeds = one ? [Number(one)] : Array.from({ length: count }, (_, i) => i + 1);
    for (const seed of seeds) await runSeed(seed);
    console.log(`crash-sim: ${JSON.stringify(stats)}`);
    expect(stats.seeds).toBe(seeds.length);
    expect(stats.crashInside).toBeGreaterThan(0);
  }, 120_000);
});
