/*
 * The peer URLs' own API beside raft's (etcd's etcdhttp peer handler):
 *   GET  /members                 the members as JSON, one array and a newline (ids as decimal numbers)
 *   POST /members/promote/<id>    promote a learner (decimal id)
 *   POST /leases                  a follower's forwarded LeaseKeepAlive (protobuf in and out)
 *   POST /leases/internal         a follower's forwarded LeaseTimeToLive
 *   GET  /members/hashkv          HashKV at a revision, JSON in and out (etcd's corruption checks ask it)
 *   GET  /version                 {"etcdserver":"3.4.23","etcdcluster":"3.4.0"}
 * Anything else under / answers Go's 404. The raft paths (/raft...) are the transport's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  decodeLeaseInternalRequest, decodeLeaseKeepAliveRequest, encodeLeaseInternalResponse, encodeLeaseKeepAliveResponse, type LeaseTimeToLive,
} from '../../codec/lease-peer.js';

export interface PeerMember {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** What a lease call at the leader comes to: a result or etcd's refusal. */
export type LeaseAnswer<T> = T | 'notFound' | 'notPrimary';

export interface PeerApiDeps {
  clusterId(): bigint;
  members(): PeerMember[];
  version(): { etcdserver: string; etcdcluster: string };
  leaseRenew(id: bigint): Promise<LeaseAnswer<{ ttl: number }>>;
  leaseTimeToLive(id: bigint, keys: boolean): Promise<LeaseAnswer<LeaseTimeToLive>>;
  /** A learner's promotion at this member (etcd's PromoteMember); rejects with an error whose `code` is the server's. */
  promote(id: bigint): Promise<PeerMember[]>;
  /** etcd's HashByRev (0: now); rejects with an error whose `code` is mvcc's ('compacted', 'future-rev'). */
  hashKV(revision: number): Promise<{ hash: number; revision: number; compactRevision: number }>;
}

/** membership.Member as Go's encoding/json writes it (omitempty on isLearner, name, clientURLs). */
export function memberJson(m: PeerMember): string {
  let s = `{"id":${m.id.toString()},"peerURLs":${JSON.stringify(m.peerURLs)}`;
  if (m.isLearner) s += ',"isLearner":true';
  if (m.name !== '') s += `,"name":${JSON.stringify(m.name)}`;
  if (m.clientURLs.length > 0) s += `,"clientURLs":${JSON.stringify(m.clientURLs)}`;
  return `${s}}`;
}

function goError(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${text}\n`);
}

function allow(req: IncomingMessage, res: ServerResponse, method: string): boolean {
  if (req.method === method) return true;
  res.setHeader('Allow', method);
  goError(res, 405, 'Method Not Allowed');
  return false;
}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** The handler of the peer API; false when the path is not one of its own. */
export function peerApi(d: PeerApiDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/members') serveMembers(d, req, res);
    else if (path === '/members/hashkv') void serveHashKV(d, req, res);
    else if (path.startsWith('/members/promote/')) void servePromote(d, req, res, path);
    else if (path === '/leases' || path === '/leases/internal') void serveLease(d, req, res, path);
    else if (path === '/version') serveVersion(d, req, res);
    else return false;
    return true;
  };
}

function serveMembers(d: PeerApiDeps, req: IncomingMessage, res: ServerResponse): void {
  if (!allow(req, res, 'GET')) return;
  res.setHeader('X-Etcd-Cluster-ID', d.clusterId().toString(16));
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(`[${d.members().map(memberJson).join(',')}]\n`);
}

/** etcd's peerMemberPromoteHandler: the members after the promotion, or its refusal's status and text. */
async function servePromote(d: PeerApiDeps, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  if (!allow(req, res, 'POST')) return;
  res.setHeader('X-Etcd-Cluster-ID', d.clusterId().toString(16));
  const idText = path.slice('/members/promote/'.length);
  if (!/^\d{1,20}$/.test(idText) || BigInt(idText) >= 1n << 64n) return goError(res, 404, `member ${idText} not found in cluster`);
  try {
    const members = await d.promote(BigInt(idText));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(`[${members.map(memberJson).join(',')}]\n`);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'MemberNotFound') return goError(res, 404, 'membership: ID not found');
    if (code === 'MemberNotLearner') return goError(res, 412, 'membership: can only promote a learner member');
    if (code === 'LearnerNotReady') return goError(res, 412, 'etcdserver: can only promote a learner member which is in sync with leader');
    if (code === 'Timeout') return goError(res, 408, 'etcdserver: request timed out');
    goError(res, 500, 'Internal Server Error');
  }
}

/** mvcc's error texts, as etcd's hashKVHandler answers them (400) and its corruption check reads them. */
const MVCC_TEXT: Record<string, string> = {
  compacted: 'mvcc: required revision has been compacted',
  'future-rev': 'mvcc: required revision is a future revision',
};

/**
 * etcd's hashKVHandler: GET with a JSON HashKVRequest body ({"revision":N}, read as Go's json: an
 * absent revision or a null body is 0, now; an empty body is refused); the answer is Go's json.Marshal of a HashKVResponse with only the header's
 * revision, the hash and the compact revision set (omitempty: zeros left out).
 */
async function serveHashKV(d: PeerApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!allow(req, res, 'GET')) return;
  let revision = 0;
  try {
    const body = JSON.parse((await readBody(req)).toString()) as Record<string, unknown> | null; // '' is refused, as Go's
    if (body !== null && (typeof body !== 'object' || Array.isArray(body))) throw new Error('not an object');
    // Go's json matches a field name without regard to case; the last one given wins
    const keys = Object.keys(body ?? {}).filter((k) => k.toLowerCase() === 'revision');
    const r = keys.length > 0 ? body![keys[keys.length - 1]!] : 0;
    if (typeof r !== 'number' || !Number.isSafeInteger(r)) throw new Error('not an int64');
    revision = r;
  } catch {
    return goError(res, 400, 'error unmarshalling request');
  }
  let h: { hash: number; revision: number; compactRevision: number };
  try {
    h = await d.hashKV(revision);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    return goError(res, 400, typeof code === 'string' && MVCC_TEXT[code] ? MVCC_TEXT[code] : String((err as Error).message));
  }
  const fields = [`"header":{${h.revision !== 0 ? `"revision":${h.revision}` : ''}}`];
  if (h.hash !== 0) fields.push(`"hash":${h.hash}`);
  if (h.compactRevision !== 0) fields.push(`"compact_revision":${h.compactRevision}`);
  res.setHeader('X-Etcd-Cluster-ID', d.clusterId().toString(16));
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(`{${fields.join(',')}}`);
}

function serveVersion(d: PeerApiDeps, req: IncomingMessage, res: ServerResponse): void {
  if (!allow(req, res, 'GET')) return;
  const v = d.version();
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(`{"etcdserver":${JSON.stringify(v.etcdserver)},"etcdcluster":${JSON.stringify(v.etcdcluster)}}`);
}

async function serveLease(d: PeerApiDeps, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  if (req.method !== 'POST') return goError(res, 405, 'Method Not Allowed');
  let body: Uint8Array;
  try {
    body = await readBody(req);
  } catch {
    return goError(res, 400, 'error reading body');
  }
  let out: Uint8Array;
  try {
    if (path === '/leases') {
      const { id } = decodeLeaseKeepAliveRequest(body);
      const r = await d.leaseRenew(id);
      if (r === 'notFound') return goError(res, 404, 'lease not found');
      if (r === 'notPrimary') return goError(res, 400, 'not a primary lessor');
      out = encodeLeaseKeepAliveResponse({ id, ttl: r.ttl });
    } else {
      const { id, keys } = decodeLeaseInternalRequest(body);
      const r = await d.leaseTimeToLive(id, keys);
      if (r === 'notFound' || r === 'notPrimary') return goError(res, 404, 'lease not found');
      out = encodeLeaseInternalResponse(r);
    }
  } catch (err) {
    if (err instanceof RangeError) return goError(res, 400, 'error unmarshalling request');
    return goError(res, 500, (err as Error).message);
  }
  res.writeHead(200, { 'Content-Type': 'application/protobuf' });
  res.end(out);
}
