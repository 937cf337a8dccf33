/*
 * The cluster mirror under the internal /0 directory, written exactly as etcd 3.4 writes it (observed in
 * a 3.4.23 snapshot of a fresh member). The server calls these when it APPLIES the corresponding entry:
 *   ConfChange AddNode/AddLearnerNode → mirrorMemberAdd     create /0/members/<id>/raftAttributes
 *       {"peerURLs":["http://127.0.0.1:2380"]}  (+ ,"isLearner":true for a learner)
 *   publish (member attributes)       → mirrorMemberAttributes  set /0/members/<id>/attributes
 *       {"name":"default","clientURLs":["http://127.0.0.1:2379"]}  (name / clientURLs left out when empty)
 *   ConfChange UpdateNode, promote    → mirrorMemberRaftAttributes  update /0/members/<id>/raftAttributes
 *   ConfChange RemoveNode             → mirrorMemberRemove  delete /0/members/<id> (recursive),
 *                                                           create /0/removed_members/<id> = ""
 *   cluster version set               → mirrorClusterVersion  set /0/version = "3.4.0"
 * On a fresh single member that is index 1 (raftAttributes), 2 (attributes), 3 (version): the first user
 * write gets index 4. A restarted member publishes its attributes again (one more index), as etcd does.
 * <id> is the member id in unpadded lower-case hex. These nodes live outside /1, so no user read, listing
 * or watch ever sees them; they are counted in the store stats as etcd counts them.
 */
import { V2Error, V2ErrorCode } from './errors.js';
import { goJsonString } from './json.js';
import type { V2Event } from './event.js';
import { CLUSTER_PREFIX } from './node.js';
import type { V2Now, V2Store } from './store.js';
import { toMs } from './store.js';

export interface MirrorRaftAttributes { peerURLs: string[]; isLearner?: boolean }
export interface MirrorAttributes { name: string; clientURLs: string[] }

const strings = (xs: string[]): string => `[${xs.map(goJsonString).join(',')}]`;

export function raftAttributesJson(a: MirrorRaftAttributes): string {
  return `{"peerURLs":${a.peerURLs.length === 0 ? 'null' : strings(a.peerURLs)}${a.isLearner ? ',"isLearner":true' : ''}}`;
}

export function attributesJson(a: MirrorAttributes): string {
  const parts: string[] = [];
  if (a.name !== '') parts.push(`"name":${goJsonString(a.name)}`);
  if (a.clientURLs.length > 0) parts.push(`"clientURLs":${strings(a.clientURLs)}`);
  return `{${parts.join(',')}}`;
}

export const memberDir = (idHex: string): string => `${CLUSTER_PREFIX}/members/${idHex}`;

export function mirrorMemberAdd(s: V2Store, idHex: string, a: MirrorRaftAttributes, now: V2Now): V2Event {
  const path = `${memberDir(idHex)}/raftAttributes`;
  return s.counted('create', () => s.createPath(path, { value: raftAttributesJson(a) }, toMs(now)));
}

export function mirrorMemberAttributes(s: V2Store, idHex: string, a: MirrorAttributes, now: V2Now): V2Event {
  const path = `${memberDir(idHex)}/attributes`;
  return s.counted('sets', () => s.setPath(path, { value: attributesJson(a) }, toMs(now)));
}

export function mirrorMemberRaftAttributes(s: V2Store, idHex: string, a: MirrorRaftAttributes, now: V2Now): V2Event {
  const path = `${memberDir(idHex)}/raftAttributes`;
  return s.counted('update', () => s.updatePath(path, { value: raftAttributesJson(a) }, toMs(now)));
}

export function mirrorMemberRemove(s: V2Store, idHex: string, now: V2Now): V2Event[] {
  const nowMs = toMs(now);
  const out: V2Event[] = [];
  try {
    out.push(s.counted('delete', () => s.deletePath(memberDir(idHex), { recursive: true }, nowMs)));
  } catch (err) {
    // etcd tolerates a member missing from the mirror here (key not found); anything else is a bug.
    if (!(err instanceof V2Error && err.errorCode === V2ErrorCode.KeyNotFound)) throw err;
  }
  const removed = `${CLUSTER_PREFIX}/removed_members/${idHex}`;
  out.push(s.counted('create', () => s.createPath(removed, { value: '' }, nowMs)));
  return out;
}

export function mirrorClusterVersion(s: V2Store, version: string, now: V2Now): V2Event {
  return s.counted('sets', () => s.setPath(`${CLUSTER_PREFIX}/version`, { value: version }, toMs(now)));
}
