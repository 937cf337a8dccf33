/*
 * membership/: the cluster id, the members (peer and client URLs, name, learner flag) and the removed
 * ids, as every member applies them from the raft log. Ids are etcd's (ids.ts): sha1-derived, printed
 * as unpadded lower-case hex. The server persists members through MembershipStore in the same backend
 * batch as the applied entry, and mirrors them into the v2 store under /0/members as etcd does.
 * Conf-change contexts and published attributes are etcd's member JSON (member-json.ts), e.g. the
 * context of a bootstrap entry: {"id":10276657743932975437,"peerURLs":["http://localhost:2380"],"name":"default"}.
 */
export * from './ids.js';
export * from './cluster.js';
export * from './member-json.js';
