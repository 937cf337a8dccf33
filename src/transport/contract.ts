// The transport contract (see index.ts): what the server implements (Receiver) and calls (Transport).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Message, NodeId } from '../raft/types.js';
import type { LinkStats } from './stats.js';

export interface Receiver {
  /** A raft message from a peer (already authenticated by mTLS). Throws RemovedMemberError. */
  process(message: Message): void;
  /** Whether the member was removed from the cluster (its streams are refused). */
  isIdRemoved(id: NodeId): boolean;
  reportUnreachable(id: NodeId): void;
  reportSnapshot(id: NodeId, failed: boolean): void;
  /**
   * A pipeline or snapshot post came from a member with these advertised peer URLs (X-Server-From,
   * X-PeerURLs), so the receiver can answer a sender no membership of its own names yet (etcd's
   * addRemoteFromRequest): a member that joined a running cluster and restarted before it applied
   * the membership has no other way to reach the leader.
   */
  addRemote?(id: NodeId, peerUrls: string[]): void;
}

export interface Transport {
  send(messages: Message[]): void;
  addPeer(id: NodeId, peerUrls: string[]): void;
  removePeer(id: NodeId): void;
  updatePeer(id: NodeId, peerUrls: string[]): void;
  close(): Promise<void>;
}

/**
 * The transport as the member holds it: the Transport the Ready loop sends through, plus the link
 * state and statistics, raw posts to a peer's URLs (lease forwarding, promotions) and the peer HTTP
 * handler. PeerTransport (http-transport.ts) is it over HTTP; the simulation has its own.
 */
export interface MemberTransport extends Transport {
  readonly stats: LinkStats;
  /** When the link to a peer came up (ms since the epoch; 0 = down). */
  activeSince(id: NodeId): number;
  postRaw(url: string, path: string, body: Uint8Array, timeoutMs: number): Promise<{ status: number; body: Buffer }>;
  /** Serves a request on the peer port; false when it is not the transport's. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/** Thrown by Receiver.process for a message from a removed member (answered 403, as etcd does). */
export class RemovedMemberError extends Error {
  constructor() {
    super('cannot process message from removed member');
  }
}

/** The transport of a cluster of one: there is nobody to send to. */
export class NoPeersTransport implements Transport {
  send(messages: Message[]): void {
    if (messages.length > 0) throw new Error(`transport: ${messages.length} message(s) to peers in a cluster of one`);
  }
  addPeer(): void {}
  removePeer(): void {}
  updatePeer(): void {}
  async close(): Promise<void> {}
}
