/*
 * The Ready loop: the only place raft meets the disk and the network.
 *
 *   propose / step / tick ──▶ kick() ──▶ while hasReady: ready()
 *      ──▶ leader: send messages (appends go out while our own fsync runs)
 *      ──▶ snapshot (if any) to snap/ and a marker to the WAL
 *      ──▶ wal.save(hardState, entries): one write + one fdatasync for everything proposed meanwhile
 *      (meanwhile: apply committed entries that earlier Readies made durable here, answer their clients)
 *      ──▶ storage.append ──▶ follower: send messages (only now are they backed by durable state)
 *      ──▶ hand out read states ──▶ advance
 *      ──▶ the committed entries of this Ready that waited for its save are applied as soon as the
 *          next Ready's save is issued (or at once when there is no next Ready)
 *
 * Group commit falls out of the loop: while one save awaits its fsync, new proposals collect in raft's
 * unstable log and the next Ready carries them all. Applying a batch and answering its clients (a
 * socket write each) overlaps the next batch's fsync instead of preceding it. A save goes through
 * the thread pool, except one entry from a lone client, which is written on the loop's own thread
 * (see handle: the pool's hand-offs cost more than the wait they free the loop for).
 */
import type { Clock, TimerHandle } from '../pkg/clock.js';
import { failpoint } from '../pkg/failpoints.js';
import { InvariantError } from '../pkg/invariant.js';
import { systemClock } from '../platform/clock.js';
import type { Logger } from '../pkg/logger.js';
import { MemoryStorage, RaftInvariantError, RawNode, StateType, type Ready, type ReadState, type SoftState } from '../raft/index.js';
import { EntryType, type Entry, type Message, type Snapshot } from '../raft/types.js';
import type { Transport } from '../transport/index.js';
import type { Snapshotter, WAL } from '../wal/index.js';
import { mark, Stage, TRACE_PUT } from '../pkg/put-trace.js';

/** Idle time that counts as waiting for a client (a poll that finds work ready takes a few µs). */
const WAITED_MS = 0.02;

export interface RaftNodeHooks {
  /** Applies committed entries in order, synchronously. */
  applyEntries(entries: Entry[]): void;
  /**
   * Replaces the state machine with a snapshot received from the leader; called once the snapshot,
   * and the hard state committing it, are durable.
   */
  applySnapshot(snapshot: Snapshot): Promise<void>;
  onSoftState(soft: SoftState): void;
  onReadStates(states: ReadState[]): void;
  /** Called once per loop pass after applying, with the applied index (snapshot trigger point). */
  afterApply(): Promise<void>;
  /** A fatal error of the loop (fsync failed): the member must stop. */
  onFatal(err: unknown): void;
}

export interface RaftNodeOptions {
  tickMs: number;
  logger: Logger;
  /** The ticker's timers (default the system clock). */
  clock?: Clock;
  /** The event loop's cumulative idle time in ms (default Node's; null: a save is never written inline). */
  idleMs?: (() => number) | null;
  /**
   * Whether nothing but the proposal being saved is waiting on this member (one client, no peers):
   * a save of one entry is then written on the event loop's thread (see handle).
   */
  alone?: () => boolean;
}

export class RaftNode {
  private running = false;
  private stopped = false;
  private failed = false;
  private ticker: TimerHandle | undefined;
  private idle: Promise<void> = Promise.resolve();
  private isLeader = false;
  /** Committed entries made durable by the last save, not applied yet (see applyDurable). */
  private durable: Entry[] = [];
  /** The event loop's idle time (ms, cumulative) when the last save completed. */
  private idleAtSave = 0;
  private readonly clock: Clock;
  private readonly idleMs: (() => number) | null;

  constructor(
    readonly node: RawNode,
    readonly storage: MemoryStorage,
    private readonly wal: WAL,
    private readonly snapshotter: Snapshotter,
    private readonly transport: Transport,
    private readonly hooks: RaftNodeHooks,
    private readonly opts: RaftNodeOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.idleMs = opts.idleMs === undefined ? systemClock.idleMs : opts.idleMs;
  }

  start(): void {
    this.ticker = this.clock.setInterval(() => {
      try {
        this.node.tick();
      } catch (err) {
        return this.fail(err);
      }
      this.kick();
    }, this.opts.tickMs, true);
    this.kick();
  }

  /** Proposes data; throws ErrProposalDropped when there is no leader to take it. */
  propose(data: Uint8Array): void {
    try {
      this.node.propose(data);
    } catch (err) {
      this.failIfBroken(err);
    }
    this.kick();
  }

  /** Proposes many entries as one message (all or none); throws ErrProposalDropped. */
  proposeBatch(datas: Uint8Array[]): void {
    try {
      this.node.proposeBatch(datas);
    } catch (err) {
      this.failIfBroken(err);
    }
    this.kick();
  }

  /**
   * Hands a peer's message to raft. A broken raft invariant (etcd's raft panics: a leader's
   * `tocommit(X) is out of range [lastIndex(Y)]` when our log lost entries we acknowledged) stops
   * the member instead of leaving it running on a log it cannot trust.
   */
  step(m: Message): void {
    try {
      this.node.step(m);
    } catch (err) {
      this.failIfBroken(err);
    }
    this.kick();
  }

  /** Rethrows `err`, after stopping the member if it is a broken raft invariant. */
  private failIfBroken(err: unknown): never {
    if (err instanceof RaftInvariantError) this.fail(err);
    throw err;
  }

  /** The loop stops for good and the member is told to die (once). */
  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.stopped = true;
    this.clock.clearInterval(this.ticker);
    this.hooks.onFatal(err);
  }

  /** Runs the loop if it is not running; a running loop picks new work up by itself. */
  kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.idle = this.drain();
  }

  /** Stops ticking and waits for the Ready being processed to finish (its entries are then durable). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearInterval(this.ticker);
    await this.idle;
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && this.node.hasReady()) {
        const rd = this.node.ready();
        if (TRACE_PUT && rd.entries.length > 0) mark(Stage.ready);
        await this.handle(rd);
        this.node.advance(rd);
        if (!this.node.hasReady()) this.applyDurable();
        await this.hooks.afterApply();
      }
      this.applyDurable(); // stopped: what is durable is answered
    } catch (err) {
      this.fail(err);
    } finally {
      this.running = false;
    }
    // Work that arrived between the last hasReady() and running=false.
    if (!this.stopped && this.node.hasReady()) this.kick();
  }

  private async handle(rd: Ready): Promise<void> {
    if (rd.softState) {
      this.isLeader = rd.softState.raftState === StateType.StateLeader;
      this.hooks.onSoftState(rd.softState);
    }
    const firstUnsaved = rd.entries.length > 0 ? rd.entries[0]!.index : Number.POSITIVE_INFINITY;
    // etcd's shouldWaitWALSync: this Ready commits entries it also brings to be saved (a leader counts
    // its own log as matched on append, so a sole voter commits before its disk has the entries). The
    // leader's messages then wait for the save, as etcd 3.4's do: they carry that commit index, and a
    // learner (or a member being added) would apply entries the leader may lose in a crash, and then
    // differ from the log the leader rebuilds. Otherwise the leader sends while it writes (raft thesis 10.2.1).
    const commitsUnsaved = rd.committedEntries.length > 0 && rd.committedEntries[rd.committedEntries.length - 1]!.index >= firstUnsaved;
    // A committed conf change: its commit index is made durable (fsync'ed, though raft asks no sync for
    // a commit alone) before it is applied and before the leader tells anyone of it. Raft's
    // configuration comes from the applied log, and a member removed stops once it applied its
    // removal: a remaining member that forgot, in a power cut, that the removal was committed would
    // restart counting the removed member's vote it can never get (two voters, one removed: stuck for
    // good; etcd 3.4 shares this). Conf changes are rare: the sync costs nothing measurable.
    const confCommitted = rd.committedEntries.some((e) => e.type === EntryType.EntryConfChange);
    const sendFirst = this.isLeader && !commitsUnsaved && !confCommitted;
    if (sendFirst) this.transport.send(rd.messages);
    if (rd.snapshot) {
      this.applyDurable(); // the entries before it, then the snapshot replaces the state
      await this.persistSnapshot(rd.snapshot);
    }
    // The save's write is issued in the WAL's next microtask, ahead of the replies queued below.
    // A lone entry with nothing else waiting (one client, no peers, nothing left to apply) is written
    // inline: the loop would only idle during the disk's wait, and the thread pool's two hand-offs
    // cost more (measured on 2 cores, one client: 0.6-0.9k -> 0.9-1.2k puts/s, CPU/put -25%). "Alone"
    // also needs the loop to have waited for this proposal since the last save (a client answered,
    // then heard from again): when requests queue up, or keep streaming in, the pool write stays, so
    // the loop parses, applies and answers during the disk's wait (written inline whenever the batch
    // held one entry, a stream of puts from 1,000 clients got half the throughput).
    const inline = rd.entries.length === 1 && this.durable.length === 0 && this.waitedSinceSave() && this.opts.alone?.() === true;
    const saving = rd.hardState || rd.entries.length > 0 ? this.wal.save(rd.hardState, rd.entries, rd.mustSync || confCommitted, inline) : undefined;
    // Committed entries already durable here are applied (and their clients answered) while this
    // Ready's write is in flight: the previous Ready's, then those of this Ready that an earlier one
    // saved. Committed entries of this very Ready wait for its save: a leader counts its own log as
    // matched on append, so in a cluster of one an entry is committed before it is on disk, and
    // acknowledging it then could lose it in a crash (the durability bug of etcd 3.4's single
    // member, etcd#14370). After a snapshot, everything waits.
    this.applyDurable();
    let early = 0;
    if (!rd.snapshot && !confCommitted) while (early < rd.committedEntries.length && rd.committedEntries[early]!.index < firstUnsaved) early++;
    if (early > 0) {
      this.apply(early === rd.committedEntries.length ? rd.committedEntries : rd.committedEntries.slice(0, early));
      // their clients may be answered (and propose again) while this Ready's save is in flight: raft
      // must know them applied now, or a conf change proposed then is dropped as if one were pending
      this.node.appliedTo(rd.committedEntries[early - 1]!.index);
    }
    if (saving) {
      await saving;
      if (TRACE_PUT) mark(Stage.saved);
      this.idleAtSave = this.idleMs?.() ?? 0;
    }
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    if (rd.snapshot) {
      this.storage.applySnapshot(rd.snapshot);
      failpoint('raftBeforeApplySnap');
      await this.hooks.applySnapshot(rd.snapshot);
      failpoint('raftAfterApplySnap');
    }
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (!sendFirst) this.transport.send(rd.messages);
    if (rd.readStates.length > 0) this.hooks.onReadStates(rd.readStates);
    if (early < rd.committedEntries.length) this.durable = early === 0 ? rd.committedEntries : rd.committedEntries.slice(early);
  }

  /** Whether the event loop has waited for I/O since the last save (more than a poll that found work). */
  private waitedSinceSave(): boolean {
    return this.idleMs !== null && this.idleMs() - this.idleAtSave >= WAITED_MS;
  }

  /** Applies the committed entries the last save made durable, if any (in order, once). */
  private applyDurable(): void {
    if (this.durable.length === 0) return;
    const entries = this.durable;
    this.durable = [];
    this.apply(entries);
  }

  /**
   * Applies committed entries, none past what the WAL made durable here: raft's storage holds only
   * entries whose save completed (appended after it, restored from the WAL at start), so its last
   * index is the durable one. Applying beyond it could acknowledge a write a crash then loses.
   */
  private apply(entries: Entry[]): void {
    const last = entries[entries.length - 1]!.index;
    const durable = this.storage.lastIndex();
    if (last > durable) throw new InvariantError('server', `applying entry ${last} past the durable log (last durable index ${durable})`);
    this.hooks.applyEntries(entries);
  }

  /** etcd's SaveSnap, before the hard state and entries of the same Ready (failpoints as etcd names them). */
  private async persistSnapshot(snap: Snapshot): Promise<void> {
    failpoint('raftBeforeSaveSnap');
    await this.snapshotter.save(snap);
    await this.wal.saveSnapshot({ index: snap.metadata.index, term: snap.metadata.term });
    failpoint('raftAfterSaveSnap');
  }
}
