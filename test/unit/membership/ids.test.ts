import { describe, expect, it } from 'vitest';
import { computeClusterId, computeMemberId, idToHex, parseHexId } from '../../../src/membership/ids.js';

describe('member and cluster ids', () => {
  it('match etcd for a default single member (etcd prints 8e9e05c52164694d / cdf818194e3a8c32)', () => {
    const id = computeMemberId(['http://localhost:2380'], 'etcd-cluster');
    expect(idToHex(id)).toBe('8e9e05c52164694d');
    expect(idToHex(computeClusterId([id]))).toBe('cdf818194e3a8c32');
  });

  it('do not depend on the order of peer URLs or member ids', () => {
    const a = computeMemberId(['http://b:2380', 'http://a:2380'], 't');
    const b = computeMemberId(['http://a:2380', 'http://b:2380'], 't');
    expect(a).toBe(b);
    expect(computeClusterId([1n, 2n])).toBe(computeClusterId([2n, 1n]));
  });

  it('differ with the cluster token and the time a member was added', () => {
    const urls = ['http://localhost:2380'];
    expect(computeMemberId(urls, 'x')).not.toBe(computeMemberId(urls, 'y'));
    expect(computeMemberId(urls, 'x', 1)).not.toBe(computeMemberId(urls, 'x'));
  });

  it('parse hex ids and reject junk', () => {
    expect(parseHexId('8e9e05c52164694d')).toBe(0x8e9e05c52164694dn);
    expect(() => parseHexId('zz')).toThrow(/invalid member id/);
  });
});
