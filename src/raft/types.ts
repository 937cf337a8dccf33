/*
 * The raft wire and storage types, named as etcd's raftpb names them so that logs and tests read like
 * the literature. Shared by raft/, wal/, transport/ and server/.
 *
 * Numbers: log indexes and terms are JS numbers (safe integers; 2^53 entries is beyond any member's
 * life). Node ids are 64-bit member ids and therefore bigint; `None` (0n) means "no node".
 * Entry data is opaque to raft except for conf-change entries, which raft decodes itself.
 */

export type NodeId = bigint;
export const None: NodeId = 0n;

export enum EntryType {
  EntryNormal = 0,
  EntryConfChange = 1,
  EntryConfChangeV2 = 2,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must be durable before any message that depends on it is sent. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  /** Voters of the outgoing configuration while in a joint configuration; empty otherwise. */
  votersOutgoing: NodeId[];
  /** Voters that become learners when the joint configuration is left. */
  learnersNext: NodeId[];
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

export interface Snapshot {
  /** Opaque application state (for our server: a reference to a backend checkpoint). */
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

export enum MessageType {
  MsgHup = 0,
  MsgBeat = 1,
  MsgProp = 2,
  MsgApp = 3,
  MsgAppResp = 4,
  MsgVote = 5,
  MsgVoteResp = 6,
  MsgSnap = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResp = 9,
  MsgUnreachable = 10,
  MsgSnapStatus = 11,
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgPreVote = 17,
  MsgPreVoteResp = 18,
}

export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  /** Term of the entry at `index` (MsgApp: the entry before `entries`; votes: the candidate's last term). */
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: number;
  context?: Uint8Array;
}

export enum ConfChangeType {
  ConfChangeAddNode = 0,
  ConfChangeRemoveNode = 1,
  ConfChangeUpdateNode = 2,
  ConfChangeAddLearnerNode = 3,
}

export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to raft; the server puts the encoded member (name, peer URLs) here. */
  context?: Uint8Array;
  /** Proposal id chosen by the server, so it can find the waiter when the change applies. */
  id?: bigint;
}
