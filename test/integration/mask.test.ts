// The transcript masks (mask.ts): ids are masked by their form, whatever their value happens to be.
import { describe, expect, it } from 'vitest';
import { maskOutput } from './mask.js';

const member = { clientUrl: 'http://127.0.0.1:23790', peerUrl: 'http://127.0.0.1:23800', dataDir: '/tmp/d' };

describe('maskOutput', () => {
  it("masks a decimal id in JSON as <ID> however many digits it has (etcd's lease ids lose their leading digits when the member id's low bits are small)", () => {
    for (const id of ['1234567890123456', '694861234567890123', '123456789012']) {
      expect(maskOutput(`{"id":${id},"ttl":5,"granted-ttl":600}`, member)).toBe('{"id":<ID>,"ttl":<N>,"granted-ttl":600}');
      expect(maskOutput(`"ID" : ${id}`, member)).toBe('"ID" : <ID>');
    }
  });

  it('keeps hex ids and decimal ids apart elsewhere', () => {
    expect(maskOutput('lease 694d8b1c2e3f4a01 granted with TTL(600s)', member)).toBe('lease <HEX-ID> granted with TTL(600s)');
    expect(maskOutput('{"id":"694d8b1c2e3f4a01"}', member)).toBe('{"id":"<HEX-ID>"}');
    expect(maskOutput('cluster_id:14841639068965178418', member)).toBe('cluster_id:<ID>');
  });
});
