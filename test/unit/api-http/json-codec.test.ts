// The JSON mapping in isolation: Go's base64 errors, body splitting, decode defaults and oneofs,
// encode omission rules for every value shape proto-loader's input types allow.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageDefinition, PROTO_DIR } from '../../../src/api/v3/proto.js';
import { JsonCodec, ONEOF_MEMBERS } from '../../../src/api/http/json-codec.js';
import { decodeBase64Std, firstJsonValue, GatewayDecodeError, quoteLongIntegers, splitJsonValues } from '../../../src/api/http/json-scan.js';

const codec = new JsonCodec(packageDefinition());
const spec = (name: string) => codec.message(name);

describe('base64 as Go StdEncoding (observed on etcd 3.4.23)', () => {
  it.each([
    ['Zm9', 0], ['Zm9v=', 4], ['Zm-v', 2], ['Zm9vYg', 4], ['Zm9vYg=', 7], ['Zm_v', 2], ['Zm9vYg=x', 6], ['Zm9vYg==x', 8],
  ])('%s → illegal base64 data at input byte %i', (text, at) => {
    expect(() => decodeBase64Std(text)).toThrow(new GatewayDecodeError(`illegal base64 data at input byte ${at}`));
  });
  it.each([['Zm9vYg==', 'foob'], ['Zm9vYh==', 'foob'], ['', ''], ['Zm9v\nYmFy', 'foobar']])('%j decodes', (text, out) => {
    expect(decodeBase64Std(text).toString()).toBe(out);
  });
});

describe('body splitting', () => {
  it('splits back-to-back values and keeps an incomplete tail', () => {
    const text = '{"ID":1}{"ID":"2"} \n{"a":"}{"}{"b":';
    const { values, rest } = splitJsonValues(text);
    expect(values).toEqual(['{"ID":1}', '{"ID":"2"}', '{"a":"}{"}']);
    expect(text.slice(rest)).toBe('{"b":');
  });
  it('first value only; empty body is {}; a truncated one is unexpected EOF', () => {
    expect(firstJsonValue('{"key":"YQ=="} garbage')).toEqual({ key: 'YQ==' });
    expect(firstJsonValue('  ')).toEqual({});
    expect(() => firstJsonValue('{"key":')).toThrow('unexpected EOF');
    expect(() => firstJsonValue('not json')).toThrow(GatewayDecodeError);
  });
});

describe("Go's JSON syntax error texts (observed on etcd 3.4.23)", () => {
  it.each([
    ['not json', "invalid character 'o' in literal null (expecting 'u')"],
    ['{"key" "x"}', `invalid character '"' after object key`],
    ['{"key":"a"]', "invalid character ']' after object key:value pair"],
    ['{,}', "invalid character ',' looking for beginning of object key string"],
    ['{"key":"Zm9v","limit":-}', "invalid character '}' in numeric literal"],
    ['{"key":"Zm9v"', 'unexpected EOF'],
    ['tru', 'unexpected EOF'],
    ['junk', "invalid character 'j' looking for beginning of value"],
    ['[1 2]', "invalid character '2' after array element"],
    ['{"a":"\\q"}', "invalid character 'q' in string escape code"],
    ['{"a":1.}', "invalid character '}' after decimal point in numeric literal"],
  ])('%s', (body, message) => {
    expect(() => firstJsonValue(body)).toThrow(new GatewayDecodeError(message));
  });
});

describe('64-bit integers sent as bare JSON numbers', () => {
  it('keep every digit (Patroni sends lease ids as numbers)', () => {
    const lease = spec('etcdserverpb.LeaseRevokeRequest');
    expect(codec.decode(lease, firstJsonValue('{"ID":7587862118036416012}')).ID).toBe('7587862118036416012');
    expect(codec.decode(lease, firstJsonValue('{"ID": -7587862118036416012 }')).ID).toBe('-7587862118036416012');
  });
  it('leaves strings, short numbers and decimals alone', () => {
    expect(quoteLongIntegers('{"a":"12345678901234567890","b":1234,"c":1234567890123456.5}')).toBe('{"a":"12345678901234567890","b":1234,"c":1234567890123456.5}');
    expect(quoteLongIntegers('{"a":"x\\"1234567890123456789","b":[12345678901234567]}')).toBe('{"a":"x\\"1234567890123456789","b":["12345678901234567"]}');
  });
});

describe('decode', () => {
  it('fills grpc-js defaults and names the set oneof member', () => {
    const txn = codec.decode(spec('etcdserverpb.TxnRequest'), {
      compare: [{ key: 'YQ==', target: 'MOD', modRevision: 0 }],
      success: [{ requestPut: { key: 'YQ==', lease: '7' } }],
    });
    expect(txn.failure).toEqual([]);
    const cmp = (txn.compare as Record<string, unknown>[])[0];
    expect(cmp).toMatchObject({ key: Buffer.from('a'), target: 'MOD', result: 'EQUAL', mod_revision: '0', target_union: 'mod_revision', range_end: Buffer.alloc(0) });
    expect(cmp).not.toHaveProperty('version');
    const op = (txn.success as Record<string, Record<string, unknown>>[])[0];
    expect(op?.request).toBe('request_put');
    expect(op?.request_put).toMatchObject({ key: Buffer.from('a'), value: Buffer.alloc(0), lease: '7', prev_kv: false });
  });
  it('64-bit range checks and enum numbers', () => {
    const lease = spec('etcdserverpb.LeaseGrantRequest');
    expect(codec.decode(lease, { ID: '9223372036854775807' }).ID).toBe('9223372036854775807');
    expect(() => codec.decode(lease, { ID: '9223372036854775808' })).toThrow('cannot unmarshal number 9223372036854775808 into Go value of type int64');
    expect(codec.decode(spec('etcdserverpb.RangeRequest'), { sort_target: 3 }).sort_target).toBe('MOD');
    // a number the enum does not name stays a number (as over gRPC): the string '5' became VERSION
    // in the raft encoding of a txn, so a compare etcd fails (unknown target) succeeded
    expect(codec.decode(spec('etcdserverpb.Compare'), { target: 5 }).target).toBe(5);
  });
});

describe('encode', () => {
  it('accepts number, string, bigint and Long-like 64-bit values and omits zeros', () => {
    const longLike = { toString: () => '18446744073709551615' };
    const out = codec.encode(spec('etcdserverpb.ResponseHeader'), { cluster_id: longLike, member_id: 5n, revision: 0, raft_term: '0' });
    expect(out).toEqual({ cluster_id: '18446744073709551615', member_id: '5' });
  });
  it('bytes from Buffer or Uint8Array, enums by number, empty sub-message kept, empty lists dropped', () => {
    const ev = codec.encode(spec('mvccpb.Event'), { type: 1, kv: { key: new Uint8Array([102, 111, 111]), value: Buffer.alloc(0) }, prev_kv: null });
    expect(JSON.stringify(ev)).toBe('{"type":"DELETE","kv":{"key":"Zm9v"}}');
    const put = codec.encode(spec('mvccpb.Event'), { type: 'PUT', kv: {} });
    expect(JSON.stringify(put)).toBe('{"kv":{}}');
    expect(codec.encode(spec('etcdserverpb.RangeResponse'), { kvs: [], more: false, count: 0 })).toEqual({});
  });
  it('a set oneof scalar is printed even when zero', () => {
    const out = codec.encode(spec('etcdserverpb.Compare'), { key: Buffer.from('a'), create_revision: 0, target_union: 'create_revision' });
    expect(out).toEqual({ key: 'YQ==', create_revision: '0' });
  });
});

describe('oneof table', () => {
  it('matches the oneof blocks of proto/*.proto', () => {
    const found: Record<string, { oneof: string; members: string[] }> = {};
    for (const file of ['rpc.proto', 'kv.proto', 'auth.proto', 'v3lock.proto', 'v3election.proto']) {
      const text = readFileSync(join(PROTO_DIR, file), 'utf8');
      const pkg = /package\s+(\w+)/.exec(text)?.[1];
      for (const m of text.matchAll(/message\s+(\w+)\s*\{([^]*?)\n\}/g)) {
        for (const o of (m[2] ?? '').matchAll(/oneof\s+(\w+)\s*\{([^}]*)\}/g)) {
          const members = [...(o[2] ?? '').matchAll(/\s(\w+)\s*=\s*\d+/g)].map((x) => x[1] as string);
          found[`${pkg}.${m[1]}`] = { oneof: o[1] as string, members };
        }
      }
    }
    expect(found).toEqual(ONEOF_MEMBERS);
  });
});
