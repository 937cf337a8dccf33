/*
 * raft/: the Raft consensus algorithm as a pure, deterministic state machine (etcd's raft, in TypeScript).
 *
 * Model. A RawNode holds one member's raft state. It never does I/O, never reads a clock and never draws
 * randomness of its own: time advances only when the application calls tick() (one tick = one heartbeat
 * interval fraction; electionTick/heartbeatTick are counted in ticks), and the randomized election timeout
 * comes from the injected seeded rng. Inputs: tick(), step(peer message), propose(), proposeConfChange(),
 * readIndex(), transferLeader(), reportUnreachable(), reportSnapshot(). Output: a Ready.
 *
 * The Ready loop (the application, i.e. server/, owns it):
 *
 *   if (node.hasReady()) {
 *     const rd = node.ready();
 *     wal.save(rd.hardState, rd.entries) (fdatasync if rd.mustSync); persist rd.snapshot if present
 *     storage.applySnapshot(rd.snapshot); storage.append(rd.entries)     // the MemoryStorage raft reads
 *     transport.send(rd.messages)             // AFTER the save; a leader may send first, in parallel
 *     apply(rd.committedEntries)              // in order; conf changes: node.applyConfChange(cc)
 *     serve rd.readStates                     // a read at index i may be served once applied >= i
 *     node.advance(rd)
 *   }
 *
 * A new member: RawNode.bootstrap(peers) (one committed ConfChangeAddNode entry per peer, as etcd), or
 * storage pre-filled with those entries. A restarted member builds a MemoryStorage from its WAL (snapshot,
 * hard state, entries) and passes its durable applied index as RaftConfig.applied: raft then re-applies
 * to its configuration the conf changes between the snapshot and that index (they are not handed out
 * again). Passing nothing (etcd's way) hands out everything after the snapshot again; the application
 * then skips what it has but must still call applyConfChange for conf-change entries.
 * Everything persisted before the crash is all raft ever assumes.
 *
 * Proposals: propose(data) appends one entry; proposeBatch(datas) appends many under one MsgProp (one
 * MsgApp per follower for the batch): the server's group commit should use it (see docs/benchmarks.md).
 *
 * Wire and storage types (Entry, Message, HardState, ...) are in ./types.ts with etcd's raftpb names.
 * A conf-change entry's data is encodeConfChange(cc): etcd's raftpb.ConfChange as gogoproto writes it
 * (./confchange-codec.ts), e.g. AddNode of node 0x2a, no proposal id, no context = 08 00 10 00 18 2a.
 *
 * Errors: propose/proposeConfChange throw ErrProposalDropped ("raft proposal dropped"). step() never
 * throws on bad input (it returns the reason). A broken invariant throws RaftInvariantError: stop the node.
 * Membership changes take effect when the application applies them (applyConfChange), one at a time, as
 * etcd does; a change that would remove the last voter is committed as an empty entry.
 */
export * from './types.js';
export * from './errors.js';
export { MemoryStorage, type Storage, emptyConfState, emptySnapshot, emptyHardState, isEmptySnap } from './storage.js';
export { StateType, type SoftState, type ReadState, type RaftConfig, defaultMaxSizePerMsg, defaultMaxInflightMsgs } from './state.js';
export { RawNode, type Ready, type Status } from './rawnode.js';
export { encodeConfChange, decodeConfChange } from './confchange-codec.js';
export { type RaftLogger, discardLogger } from './util.js';
