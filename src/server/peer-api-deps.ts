// What the peer API (api/peer's PeerApiDeps) asks of a member, taken from the server: the member's
// start (cli/main.ts) and the whole-member simulation wire it the same way.
import { MembershipChanges } from './membership-changes.js';
import { SERVER_VERSION, type EtcdServer } from './server.js';

export function peerApiDeps(server: EtcdServer) {
  // etcd's handler calls PromoteMember, which forwards again when this member no longer leads
  const changes = new MembershipChanges(server);
  return {
    clusterId: () => server.clusterId,
    members: () => server.cluster.members(),
    version: () => ({ etcdserver: SERVER_VERSION, etcdcluster: server.clusterVersion === '' ? 'not_decided' : server.clusterVersion }),
    leaseRenew: (id: bigint) => server.leaseRenewAtLeader(id),
    leaseTimeToLive: (id: bigint, keys: boolean) => server.leaseTimeToLiveAtLeader(id, keys),
    promote: (id: bigint) => changes.promote(id),
    hashKV: async (rev: number) => {
      if (server.restoring) await server.restoring;
      return server.kv.hashKV(rev);
    },
  };
}
