/*
 * transport/: peer messaging, as etcd 3.4's rafthttp does it, so that members of ours and of etcd
 * can share one cluster.
 *
 * Contract: send() never blocks and may drop (raft retries); a message that cannot be sent is
 * reported through the receiver's reportUnreachable so raft probes again, and a snapshot that
 * failed through reportSnapshot. Incoming messages are handed to the Receiver, which the server
 * implements; transport never imports server/.
 *
 * On the wire (HTTP/1.1 on the peer URLs, TLS when they are https):
 *   GET  /raft/stream/message/<our id hex>   the peer writes us every kind of message, framed as an
 *                                            8-byte big-endian length and a raftpb.Message
 *   GET  /raft/stream/msgapp/<our id hex>    the peer writes us its MsgApps, msgappv2-encoded
 *   POST /raft                               one raftpb.Message (the pipeline: used while no stream
 *                                            is up), answered 204
 *   POST /raft/snapshot                      a framed MsgSnap, then the database bytes
 *   GET  /raft/probing                       {"OK":true,"Now":...}
 * The reader dials the writer: we dial each peer's streams to receive, and write to the streams
 * each peer dialed on us. Every request carries X-Server-From, X-Server-Version,
 * X-Min-Cluster-Version, X-Etcd-Cluster-ID (and X-Raft-To, X-PeerURLs); a request from another
 * cluster or an incompatible version is refused with 412, from a removed member with 410/403.
 */
export { NoPeersTransport, RemovedMemberError, type MemberTransport, type Receiver, type Transport } from './contract.js';
export { LinkStats } from './stats.js';
export { PeerTransport, type PeerTransportOptions, type SnapshotToSend, type TransportObserver } from './http-transport.js';
