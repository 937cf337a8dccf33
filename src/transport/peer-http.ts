// What every peer request and answer shares: etcd's headers, its version and cluster checks, Go's
// http.Error answers, and ids written as etcd's types.ID writes them (lower-case hex, no padding).
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from '../pkg/logger.js';

/** The etcd version we speak as, and the oldest cluster version we can join. */
export const SERVER_VERSION = '3.4.23';
export const MIN_CLUSTER_VERSION = '3.0.0';

/** etcd's texts for the two 412 refusals (the sender matches on them). */
export const ERR_INCOMPATIBLE_VERSION = 'incompatible version';
export const ERR_CLUSTER_ID_MISMATCH = 'cluster ID mismatch';

/** The identity this member presents to its peers. */
export interface LocalIdentity {
  id: bigint;
  clusterId: bigint;
  /** Our advertised peer URLs (X-PeerURLs). */
  peerUrls: string[];
}

export function idHex(id: bigint): string {
  return id.toString(16);
}

/** types.IDFromString: hex, at most 64 bits; undefined when it is not one. */
export function parseIdHex(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F]{1,16}$/.test(s)) return undefined;
  return BigInt(`0x${s}`);
}

/** Headers of every request we send to a peer. */
export function requestHeaders(local: LocalIdentity, extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = {
    'X-Server-From': idHex(local.id),
    'X-Server-Version': SERVER_VERSION,
    'X-Min-Cluster-Version': MIN_CLUSTER_VERSION,
    'X-Etcd-Cluster-ID': idHex(local.clusterId),
    ...extra,
  };
  if (local.peerUrls.length > 0) h['X-PeerURLs'] = local.peerUrls.join(',');
  return h;
}

/** Go's http.Error: text/plain, nosniff, the text and a newline. */
export function httpError(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${text}\n`);
}

export function methodNotAllowed(res: ServerResponse, allow: string): void {
  httpError(res, 405, 'Method Not Allowed', { Allow: allow });
}

function majorMinor(v: string | undefined): [number, number] {
  const m = /^v?(\d+)\.(\d+)\.\d+/.exec(v ?? '2.0.0');
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function compareMajorMinor(a: [number, number], b: [number, number]): number {
  return a[0] !== b[0] ? Math.sign(a[0] - b[0]) : Math.sign(a[1] - b[1]);
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * etcd's checkClusterCompatibilityFromHeader: the sender's version must be at least our minimum
 * cluster version, its minimum cluster version at most our version (major.minor), and its cluster
 * id ours. Returns the refusal text, or undefined when the request may proceed.
 */
export function checkCompatibility(h: IncomingHttpHeaders, local: LocalIdentity, logger: Logger): string | undefined {
  const from = header(h, 'X-Server-From') ?? '';
  const remoteVersion = header(h, 'X-Server-Version');
  const remoteMin = header(h, 'X-Min-Cluster-Version');
  const tooLow = compareMajorMinor(majorMinor(remoteVersion), majorMinor(MIN_CLUSTER_VERSION)) < 0;
  const tooHigh = compareMajorMinor(majorMinor(remoteMin), majorMinor(SERVER_VERSION)) > 0;
  if (tooLow || tooHigh) {
    logger.warn({ remotePeerId: from, remoteServerVersion: remoteVersion ?? '2.0.0', remoteMinClusterVersion: remoteMin ?? '2.0.0', localServerVersion: SERVER_VERSION }, 'failed to check version compatibility');
    return ERR_INCOMPATIBLE_VERSION;
  }
  const cid = header(h, 'X-Etcd-Cluster-ID');
  if (cid !== idHex(local.clusterId)) {
    logger.warn({ remotePeerId: from, remoteClusterId: cid, localClusterId: idHex(local.clusterId) }, 'request cluster ID mismatch');
    return ERR_CLUSTER_ID_MISMATCH;
  }
  return undefined;
}

/** The response header a peer answers with, as a string ('' when absent). */
export function responseHeader(h: IncomingHttpHeaders, name: string): string {
  return header(h, name) ?? '';
}
