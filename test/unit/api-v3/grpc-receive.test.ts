// RecvCheck (src/api/v3/grpc-receive.ts): grpc-go's receive checks over a request stream, the same
// whatever way the bytes are cut into chunks (every split point, and byte by byte).
import { describe, expect, it } from 'vitest';
import { RecvCheck, encodingRefusal, type RecvStatus } from '../../../src/api/v3/grpc-receive.js';

const MAX = 16;
const frame = (payload: string, flag = 0, len?: number): Buffer => {
  const p = Buffer.from(payload);
  const f = Buffer.alloc(5 + p.length);
  f[0] = flag;
  f.writeUInt32BE(len ?? p.length, 1);
  p.copy(f, 5);
  return f;
};

/**
 * Feed chunks: the bytes passed on when accepted, the refusal otherwise (what passed before a refusal
 * depends on the cut, but never holds a refused message whole).
 */
function run(chunks: Buffer[], unary: boolean): { passed: string } | { status: RecvStatus } {
  const c = new RecvCheck(MAX, unary);
  const passed: Buffer[] = [];
  const total = chunks.reduce((n, ch) => n + ch.length, 0);
  for (const ch of chunks) {
    const r = c.data(ch);
    if (!Buffer.isBuffer(r)) {
      expect(Buffer.concat(passed).length).toBeLessThan(total);
      return { status: r };
    }
    passed.push(r);
  }
  const st = c.end(); // the stream ended inside a message, or before any: nothing whole to withhold
  return st === undefined ? { passed: Buffer.concat(passed).toString('hex') } : { status: st };
}

const streams: [string, Buffer, boolean, number | undefined, string | undefined][] = [
  // name, bytes, unary, expected status code and message (undefined: accepted)
  ['one message', frame('hello'), true, undefined, undefined],
  ['an empty message', frame(''), true, undefined, undefined],
  ['no message', Buffer.alloc(0), true, 2, 'EOF'],
  ['a cut prefix', frame('hello').subarray(0, 3), true, 2, 'unexpected EOF'],
  ['a cut body', frame('hello').subarray(0, 7), true, 2, 'unexpected EOF'],
  ['flag 1', frame('x', 1), true, 13, 'grpc: compressed flag set with identity or empty encoding'],
  ['flag 200', frame('', 200), true, 13, 'grpc: received unexpected payload format 200'],
  ['over the limit, flagged', frame('x'.repeat(MAX + 1), 1), true, 8, `grpc: received message larger than max (${MAX + 1} vs. ${MAX})`],
  ['a limit-sized prefix with no body', frame('', 0, MAX + 1), true, 8, `grpc: received message larger than max (${MAX + 1} vs. ${MAX})`],
  ['unary: junk after the first message', Buffer.concat([frame('a'), frame('b', 7), Buffer.from([1, 2])]), true, undefined, undefined],
  ['stream: two messages', Buffer.concat([frame('a'), frame('bb')]), false, undefined, undefined],
  ['stream: flag 7 on the second', Buffer.concat([frame('a'), frame('b', 7)]), false, 13, 'grpc: received unexpected payload format 7'],
  ['stream: cut inside the second', Buffer.concat([frame('a'), frame('bcd').subarray(0, 6)]), false, 13, 'unexpected EOF'],
  ['stream: nothing', Buffer.alloc(0), false, undefined, undefined],
];

describe('RecvCheck', () => {
  it.each(streams)('%s', (_name, bytes, unary, code, message) => {
    const whole = run([bytes], unary);
    if (code === undefined) {
      const first = unary && bytes.length > 0 ? bytes.subarray(0, 5 + bytes.readUInt32BE(1)) : bytes; // a unary call: its first message only
      expect(whole).toEqual({ passed: first.toString('hex') });
    } else {
      expect(whole).toEqual({ status: { code, details: message } });
    }
    for (let i = 1; i < bytes.length; i++) expect(run([bytes.subarray(0, i), bytes.subarray(i)], unary)).toEqual(whole);
    expect(run([...bytes].map((b) => Buffer.from([b])), unary)).toEqual(whole);
  });

  it('refuses every grpc-encoding but identity, as etcd (no decompressor installed)', () => {
    expect(encodingRefusal({})).toBeUndefined();
    expect(encodingRefusal({ 'grpc-encoding': 'identity' })).toBeUndefined();
    expect(encodingRefusal({ 'grpc-encoding': 'gzip' })).toEqual({ code: 12, details: 'grpc: Decompressor is not installed for grpc-encoding "gzip"' });
    expect(encodingRefusal({ 'grpc-encoding': 'GZIP' })?.details).toBe('grpc: Decompressor is not installed for grpc-encoding "GZIP"');
  });
});
