// The vocabulary shared by the raft files: roles, soft state, read states, the config and its limits.
import type { Storage } from './storage.js';
import type { NodeId } from './types.js';
import type { RaftLogger } from './util.js';

export enum StateType {
  StateFollower = 0,
  StateCandidate = 1,
  StateLeader = 2,
  StatePreCandidate = 3,
}

export interface SoftState {
  lead: NodeId;
  raftState: StateType;
}

export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

export interface RaftConfig {
  id: NodeId;
  electionTick: number;
  heartbeatTick: number;
  storage: Storage;
  applied?: number;
  maxSizePerMsg?: number;
  maxCommittedSizePerReady?: number;
  maxInflightMsgs?: number;
  maxUncommittedEntriesSize?: number;
  checkQuorum?: boolean;
  preVote?: boolean;
  disableProposalForwarding?: boolean;
  rng: () => number;
  logger?: RaftLogger;
}

/** Named limits and their defaults (etcd server's values). */
export const defaultMaxSizePerMsg = 1024 * 1024;
export const defaultMaxInflightMsgs = 512;
/** ReadIndex requests parked until the leader commits an entry of its term. */
export const maxPendingReadIndexMessages = 1024;

export type CampaignType = 'CampaignPreElection' | 'CampaignElection' | 'CampaignTransfer';
export const campaignTransferCtx = new TextEncoder().encode('CampaignTransfer');
