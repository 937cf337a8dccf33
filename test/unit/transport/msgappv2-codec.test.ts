// msgappv2: etcd 3.4.23's own MsgApp streams decode (From/To/Term/LogTerm/Index rebuilt as etcd's
// decoder does) and re-encode byte for byte with a fresh encoder; any chunking gives the same
// messages; unknown types, oversized and cut-off frames fail.
import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, encodeMessage } from '../../../src/raft/raftpb.js';
import { EntryType, MessageType, type Entry, type Message } from '../../../src/raft/types.js';
import { ErrExceedSizeLimit, ErrUnexpectedEOF, isLinkHeartbeatMessage, linkHeartbeatMessage } from '../../../src/transport/msg-codec.js';
import {
  MSG_TYPE_APP, MSG_TYPE_APP_ENTRIES, MSG_TYPE_LINK_HEARTBEAT, MsgAppV2Decoder, MsgAppV2Encoder,
} from '../../../src/transport/msgappv2-codec.js';
import { streams, walRecords } from '../../fixtures/etcd-peer/read.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const LOCAL = 2n;
const REMOTE = 1n;

function msg(p: Partial<Message> & { type: MessageType }): Message {
  return { to: 0n, from: 0n, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, snapshot: undefined, reject: false, rejectHint: 0, context: undefined, ...p };
}
const entry = (term: number, index: number, data = Uint8Array.of(index & 0xff)): Entry => ({ type: EntryType.EntryNormal, term, index, data });
const app = (p: Partial<Message>): Message => msg({ type: MessageType.MsgApp, from: REMOTE, to: LOCAL, ...p });

function decodeChunks(chunks: Uint8Array[], local = LOCAL, remote = REMOTE, limit?: number): { ms: Message[]; dec: MsgAppV2Decoder } {
  const ms: Message[] = [];
  const dec = new MsgAppV2Decoder(local, remote, (m) => ms.push(m), limit);
  for (const c of chunks) dec.push(c);
  return { ms, dec };
}

/** A leader's stream: a probe, appends that follow on, a heartbeat, a new term, a gap. */
const sample: Message[] = [
  app({ term: 2, logTerm: 1, index: 3, commit: 3, entries: [entry(2, 4)] }),
  app({ term: 2, logTerm: 2, index: 4, commit: 3, entries: [entry(2, 5), entry(2, 6, new Uint8Array(200).fill(1))] }),
  linkHeartbeatMessage(),
  app({ term: 2, logTerm: 2, index: 6, commit: 6, entries: [] }),
  app({ term: 2, logTerm: 2, index: 6, commit: 6, entries: [entry(2, 7, new Uint8Array(0))] }),
  app({ term: 3, logTerm: 2, index: 7, commit: 7, entries: [entry(3, 8)] }),
  app({ term: 3, logTerm: 3, index: 8, commit: 8, entries: [entry(3, 9)] }),
  app({ term: 3, logTerm: 3, index: 2, commit: 8, entries: [entry(3, 3)] }),
];
const encodeAll = (ms: Message[]): Uint8Array => {
  const enc = new MsgAppV2Encoder();
  return new Uint8Array(Buffer.concat(ms.map((m) => enc.encode(m))));
};
const sampleStream = encodeAll(sample);

describe('msgappv2: etcd 3.4.23 traffic (test/fixtures/etcd-peer)', () => {
  const all = streams('msgapp');
  const walEntries = new Map(walRecords().filter((r) => r.type === 2).map((r) => [decodeEntry(r.data).index, r.data]));

  it('decodes every stream to its end and a fresh encoder writes the same bytes', () => {
    const kinds = new Set<number>();
    let apps = 0;
    for (const s of all) {
      const { ms, dec } = decodeChunks([s.body], s.reader, s.writer);
      expect(dec.buffered).toBe(0);
      dec.end();
      expect(hex(encodeAll(ms))).toBe(hex(s.body));
      for (const m of ms) {
        if (isLinkHeartbeatMessage(m)) continue;
        apps++;
        expect([m.type, m.from, m.to]).toEqual([MessageType.MsgApp, s.writer, s.reader]);
      }
      kinds.add(s.body[0]!);
      const enc = new MsgAppV2Encoder();
      for (const m of ms) kinds.add(enc.encode(m)[0]!);
    }
    expect(apps).toBeGreaterThan(50);
    expect([...kinds].sort()).toEqual([MSG_TYPE_LINK_HEARTBEAT, MSG_TYPE_APP_ENTRIES, MSG_TYPE_APP]);
  });

  it('rebuilt MsgApps are consistent: entries follow index, and are the very entries in etcd’s WAL', () => {
    let checked = 0;
    for (const s of all) {
      for (const m of decodeChunks([s.body], s.reader, s.writer).ms) {
        m.entries.forEach((e, i) => {
          expect(e.index).toBe(m.index + 1 + i);
          const inWal = walEntries.get(e.index);
          if (inWal) {
            expect(hex(encodeEntry(e))).toBe(hex(inWal));
            checked++;
          }
        });
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('every split point of a real stream gives the same messages', () => {
    const s = all.reduce((a, b) => (b.body.length > a.body.length ? b : a));
    const body = s.body.subarray(0, 1200);
    const whole = decodeChunks([body], s.reader, s.writer).ms;
    expect(whole.length).toBeGreaterThan(5);
    for (let i = 0; i <= body.length; i++) {
      expect(decodeChunks([body.subarray(0, i), body.subarray(i)], s.reader, s.writer).ms).toEqual(whole);
    }
  });
});

describe('msgappv2: encoding', () => {
  it('the worked example: after an App ending at index 7 in term 2, a follow-on MsgApp is AppEntries', () => {
    const enc = new MsgAppV2Encoder();
    expect(enc.encode(app({ term: 2, logTerm: 1, index: 6, entries: [entry(2, 7)] }))[0]).toBe(MSG_TYPE_APP);
    expect([enc.term, enc.index]).toEqual([2, 7]);
    const b = enc.encode(app({ term: 2, logTerm: 2, index: 7, commit: 7, entries: [entry(2, 8, new Uint8Array(0))] }));
    expect(hex(b)).toBe('01' + '0000000000000001' + '0000000000000006' + '080010021808' + '0000000000000007');
    expect([enc.term, enc.index]).toEqual([2, 8]);
  });

  it('App is type 2, the 8-byte size, the whole message; a link heartbeat is the one byte 00', () => {
    const m = sample[0]!;
    const b = new MsgAppV2Encoder().encode(m);
    expect(hex(b.subarray(0, 9))).toBe('02' + encodeMessage(m).length.toString(16).padStart(16, '0'));
    expect(hex(b.subarray(9))).toBe(hex(encodeMessage(m)));
    expect(hex(new MsgAppV2Encoder().encode(linkHeartbeatMessage()))).toBe('00');
  });

  it('chooses AppEntries exactly when index, logTerm and term continue the stream (etcd’s condition)', () => {
    const kinds = (ms: Message[]): number[] => {
      const enc = new MsgAppV2Encoder();
      return ms.map((m) => enc.encode(m)[0]!);
    };
    expect(kinds(sample)).toEqual([2, 1, 0, 1, 1, 2, 1, 2]);
    // a fresh encoder is at (0, 0): a message at term 0 index 0 already continues it
    expect(kinds([app({})])).toEqual([1]);
    // an App without entries leaves index at its own index
    expect(kinds([app({ term: 4, logTerm: 4, index: 9 }), app({ term: 4, logTerm: 4, index: 9, entries: [entry(4, 10)] })])).toEqual([2, 1]);
  });
});

describe('msgappv2: decoding', () => {
  it('rebuilds from, to, term, logTerm and index; a decoded stream equals what was sent', () => {
    expect(decodeChunks([sampleStream]).ms).toEqual(sample);
    const { dec } = decodeChunks([sampleStream]);
    expect([dec.term, dec.index]).toEqual([3, 3]);
  });

  it('AppEntries before any App is read at the decoder’s starting (0, 0) state, as etcd does', () => {
    const b = new MsgAppV2Encoder().encode(app({ entries: [entry(0, 1)], commit: 1 }));
    expect(decodeChunks([b], 5n, 6n).ms).toEqual([msg({ type: MessageType.MsgApp, to: 5n, from: 6n, entries: [entry(0, 1)], commit: 1 })]);
  });

  it('every split point, three-way splits and one byte at a time give the same messages', () => {
    for (let i = 0; i <= sampleStream.length; i++) {
      expect(decodeChunks([sampleStream.subarray(0, i), sampleStream.subarray(i)]).ms).toEqual(sample);
      const j = Math.floor((i + sampleStream.length) / 2);
      expect(decodeChunks([sampleStream.subarray(0, i), sampleStream.subarray(i, j), sampleStream.subarray(j)]).ms).toEqual(sample);
    }
    const { ms, dec } = decodeChunks(Array.from(sampleStream, (b) => Uint8Array.of(b)));
    expect(ms).toEqual(sample);
    dec.end();
  });

  it('random MsgApp sequences round-trip (300 streams)', () => {
    let seed = 3;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let k = 0; k < 300; k++) {
      let term = 1 + rnd(3);
      let last = rnd(5);
      const ms: Message[] = [];
      for (let i = 0; i < 10; i++) {
        if (rnd(6) === 0) term++;
        if (rnd(5) === 0) last = Math.max(0, last - rnd(4));
        const n = rnd(4);
        ms.push(rnd(8) === 0 ? linkHeartbeatMessage() : app({ term, logTerm: rnd(4) === 0 ? term - 1 : term, index: last, commit: last, entries: Array.from({ length: n }, (_, j) => entry(term, last + 1 + j)) }));
        last += n;
      }
      const b = encodeAll(ms);
      const cut = rnd(b.length + 1);
      expect(decodeChunks([b.subarray(0, cut), b.subarray(cut)]).ms).toEqual(ms);
    }
  });
});

describe('msgappv2: errors', () => {
  it('an unknown type byte fails as etcd’s decoder does, after the messages before it', () => {
    const ms: Message[] = [];
    const dec = new MsgAppV2Decoder(LOCAL, REMOTE, (m) => ms.push(m));
    expect(() => dec.push(Uint8Array.of(0, 3))).toThrow('failed to parse type 3 in msgappv2 stream');
    expect(ms.length).toBe(1);
    expect(() => dec.push(Uint8Array.of(0))).toThrow('failed to parse type 3');
  });

  it('frames over the limit: an App, one entry, or an AppEntries adding up (bounded buffering)', () => {
    const limit = 100;
    const hdr = (n: number): string => n.toString(16).padStart(16, '0');
    const raw = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
    expect(() => decodeChunks([raw('02' + hdr(101))], LOCAL, REMOTE, limit)).toThrow(ErrExceedSizeLimit);
    expect(() => decodeChunks([raw('01' + hdr(1) + hdr(200))], LOCAL, REMOTE, limit)).toThrow(ErrExceedSizeLimit);
    const e = encodeEntry(entry(1, 1, new Uint8Array(20)));
    const many = '01' + hdr(1e9) + (hdr(e.length) + hex(e)).repeat(3);
    expect(() => decodeChunks([raw(many)], LOCAL, REMOTE, limit)).toThrow(ErrExceedSizeLimit);
    expect(() => decodeChunks([raw('02' + hdr(2 ** 40))])).toThrow('rafthttp: error limit exceeded');
  });

  it('malformed protobuf in an App or an entry throws RangeError', () => {
    const raw = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
    expect(() => decodeChunks([raw('02' + '0000000000000002' + '0880')])).toThrow(RangeError);
    expect(() => decodeChunks([raw('01' + '0000000000000001' + '0000000000000001' + '0f')])).toThrow(RangeError);
  });

  it('end() inside a frame is unexpected EOF; between frames it is clean', () => {
    for (const cut of [1, 5, 9, 20, sampleStream.length - 1]) {
      expect(() => decodeChunks([sampleStream.subarray(0, cut)]).dec.end()).toThrow(ErrUnexpectedEOF);
    }
    expect(() => decodeChunks([sampleStream]).dec.end()).not.toThrow();
    expect(() => decodeChunks([Uint8Array.of(0, 0)]).dec.end()).not.toThrow();
  });
});
