// Member and cluster ids exactly as etcd derives them, so a member of ours and of etcd started with the
// same flags report the same ids (the default member is 8e9e05c52164694d, cluster cdf818194e3a8c32).
import { sha1 } from '../platform/sha1.js';

function first8BigEndian(digest: Buffer): bigint {
  return digest.readBigUInt64BE(0);
}

/** sha1(sorted peer URLs ‖ cluster token ‖ [unix seconds, for members added at run time]), first 8 bytes. */
export function computeMemberId(peerUrls: string[], clusterToken: string, addedAtUnixSeconds?: number): bigint {
  const parts = [[...peerUrls].sort().join(''), clusterToken];
  if (addedAtUnixSeconds !== undefined) parts.push(String(addedAtUnixSeconds));
  return first8BigEndian(sha1(...parts));
}

/** sha1 of the sorted member ids as 8-byte big-endian values, first 8 bytes. */
export function computeClusterId(memberIds: bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => buf.writeBigUInt64BE(id, i * 8));
  return first8BigEndian(sha1(buf));
}

/** Ids print as etcd prints them: lower-case hex without padding. */
export function idToHex(id: bigint): string {
  return id.toString(16);
}

export function parseHexId(text: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) throw new Error(`invalid member id "${text}"`);
  return BigInt(`0x${text}`);
}
