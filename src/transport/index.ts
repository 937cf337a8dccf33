/*
 * transport/: peer messaging. Today only the contract exists (a single member sends nothing); the
 * mutual-TLS HTTP/2 peer transport on 2380 implements it with clustering.
 *
 * Contract: send() never blocks and may drop (raft retries); a dropped message to a peer is reported
 * through the receiver's reportUnreachable so raft probes again. Incoming messages are handed to the
 * Receiver, which the server implements; transport never imports server/.
 */
import type { Message, NodeId } from '../raft/types.js';

export interface Receiver {
  /** A raft message from a peer (already authenticated by mTLS). */
  process(message: Message): void;
  reportUnreachable(id: NodeId): void;
  reportSnapshot(id: NodeId, failed: boolean): void;
}

export interface Transport {
  send(messages: Message[]): void;
  addPeer(id: NodeId, peerUrls: string[]): void;
  removePeer(id: NodeId): void;
  close(): Promise<void>;
}

/** The transport of a cluster of one: there is nobody to send to. */
export class NoPeersTransport implements Transport {
  send(messages: Message[]): void {
    if (messages.length > 0) throw new Error(`transport: ${messages.length} message(s) to peers in a cluster of one`);
  }
  addPeer(): void {}
  removePeer(): void {}
  async close(): Promise<void> {}
}
