// SHA-1 over the concatenation of parts (etcd's member and cluster ids).
import { createHash } from 'node:crypto';

export function sha1(...parts: Array<string | Uint8Array>): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}
