// Shared by the v2store tests: a fresh single member as etcd 3.4 leaves it, and an HTTP-like result.
import {
  V2Error, V2Store, formatRfc3339Nano, mirrorClusterVersion, mirrorMemberAdd, mirrorMemberAttributes,
  type V2Event,
} from '../../../src/v2store/index.js';

export const T0 = Date.UTC(2026, 10, 22, 4, 48, 44, 195);

/** What a fresh etcd 3.4 single member has written before the first user request (index 3). */
export function freshMember(opts: { historyLimit?: number } = {}): V2Store {
  const s = new V2Store(opts);
  mirrorMemberAdd(s, '667880157b8812c8', { peerURLs: ['http://127.0.0.1:42380'] }, T0);
  mirrorMemberAttributes(s, '667880157b8812c8', { name: 'default', clientURLs: ['http://127.0.0.1:42379'] }, T0);
  mirrorClusterVersion(s, '3.4.0', T0);
  return s;
}

/** Status and exact body bytes as the HTTP layer would send them (without the trailing newline). */
export function answer(fn: () => V2Event): { status: number; body: string; index: number } {
  try {
    const e = fn();
    return { status: e.isCreated() ? 201 : 200, body: e.serialize(), index: e.etcdIndex };
  } catch (err) {
    if (!(err instanceof V2Error)) throw err;
    return { status: err.httpStatus(), body: err.serialize(), index: err.index };
  }
}

export const exp = (ms: number): string => formatRfc3339Nano(ms);
