// Assertions outside raft (pkg/invariant.ts): each fed a bad sequence must throw InvariantError (the
// member's fatal path), and raft's `tocommit(X) is out of range [lastIndex(Y)]` stops the Ready loop.
// Corrupt WAL and snapshot files get their own error types, which the member's start maps to a
// fatal refusal (cli/errors.ts damageOf).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Backend, Bucket } from '../../../src/backend/index.js';
import { damageOf } from '../../../src/cli/errors.js';
import { KvStore } from '../../../src/mvcc/index.js';
import { InvariantError } from '../../../src/pkg/invariant.js';
import { MemoryStorage, MessageType, RaftInvariantError, RawNode } from '../../../src/raft/index.js';
import { EntryType, type Entry, type HardState, type Message } from '../../../src/raft/types.js';
import { RaftNode } from '../../../src/server/raft-node.js';
import { startMember } from './helpers.js';
import { NoPeersTransport } from '../../../src/transport/index.js';
import { SnapshotCorruptError, WAL, WalCorruptError, readEtcdSnap, readEtcdWal, type Snapshotter } from '../../../src/wal/index.js';
import { decodeSnapFile, encodeSnapFile } from '../../../src/wal/snapshotter.js';

const B = (s: string): Buffer => Buffer.from(s);
const entry = (index: number, term = 1): Entry => ({ index, term, type: EntryType.EntryNormal, data: B(`e${index}`) });

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'invariants-'));
});
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => expect.unreachable('resolved'), (e: unknown) => e);
}

describe('the WAL: entries contiguous and the CRC chain intact when saved', () => {
  const meta = { memberId: 1n, clusterId: 2n, name: 'm' };

  it('refuses a gap after the last index', async () => {
    const wal = await WAL.create(path.join(dir, 'wal'), meta);
    await wal.save(undefined, [entry(1), entry(2)]);
    const err = await rejection(wal.save(undefined, [entry(4)]));
    expect(err).toBeInstanceOf(InvariantError);
    expect(String(err)).toContain('wal: save: entry 4 does not follow last index 2');
    // the fault is sticky: nothing more is written
    expect(await rejection(wal.save(undefined, [entry(3)]))).toBe(err);
    await wal.close();
  });

  it('refuses entries out of order inside one save, and a term going back', async () => {
    const wal = await WAL.create(path.join(dir, 'wal'), meta);
    expect(String(await rejection(wal.save(undefined, [entry(1), entry(3)])))).toContain('entry 3 (term 1) does not follow entry 1 (term 1)');
    const wal2 = await WAL.create(path.join(dir, 'wal2'), meta);
    expect(await rejection(wal2.save(undefined, [entry(1, 2), entry(2, 1)]))).toBeInstanceOf(InvariantError);
    await wal.close();
    await wal2.close();
  });

  it('refuses to save when its encoder\'s chain is not the log\'s', async () => {
    const wal = await WAL.create(path.join(dir, 'wal'), meta);
    await wal.save(undefined, [entry(1)]);
    const enc = (wal as unknown as { encoder: { crc: number } }).encoder;
    enc.crc = (enc.crc ^ 1) >>> 0;
    const err = await rejection(wal.save(undefined, [entry(2)]));
    expect(err).toBeInstanceOf(InvariantError);
    expect(String(err)).toMatch(/CRC chain \d+ is not the log's \d+/);
    await wal.close();
  });
});

describe('MVCC: revisions only increase', () => {
  it('a write txn whose store revision moved while it was open throws instead of going back', async () => {
    const backend = await Backend.open(path.join(dir, 'db'));
    const kv = await KvStore.open(backend);
    kv.put(2, { key: B('a'), value: B('1') });
    const w = kv.write(3);
    w.put(B('b'), B('2'));
    (kv as unknown as { core: { currentRev: number } }).core.currentRev = 9;
    expect(() => w.end()).toThrow(new InvariantError('mvcc', 'revision would go from 9 to 3'));
    await backend.close();
  });
});

describe('the backend never commits half an apply', () => {
  it('an apply that writes without setting its consistent index throws at its end', async () => {
    const b = await Backend.open(path.join(dir, 'db'), { batchIntervalMs: 10_000 });
    b.beginApply(5);
    b.put(Bucket.lease, B('k'), B('v'));
    expect(() => b.endApply()).toThrow(new InvariantError('backend', 'the apply of entry 5 wrote without setting its consistent index (still 0)'));
    // the normal sequence passes, and an apply that only replays (wrote nothing new) too
    b.beginApply(6);
    b.put(Bucket.lease, B('k'), B('w'));
    b.setConsistentIndex(6);
    b.endApply();
    b.beginApply(4);
    b.endApply();
    await b.close();
  });

  it('a batch commit inside an apply fails, and so does every write after it', async () => {
    const b = await Backend.open(path.join(dir, 'db'), { batchIntervalMs: 10_000 });
    b.beginApply(7);
    b.put(Bucket.lease, B('k'), B('v'));
    const err = await rejection(b.commit());
    expect(err).toEqual(new InvariantError('backend', 'a batch commit inside the apply of entry 7 would split it'));
    expect(() => b.setConsistentIndex(7)).toThrow(err as Error);
    expect(() => b.endApply()).toThrow(err as Error);
    expect(() => b.put(Bucket.lease, B('x'), B('y'))).toThrow(err as Error);
    await b.close();
  });

  it('an apply cannot begin inside another, and the consistent index never goes back', async () => {
    const b = await Backend.open(path.join(dir, 'db'), { batchIntervalMs: 10_000 });
    b.beginApply(3);
    expect(() => b.beginApply(4)).toThrow(InvariantError);
    b.setConsistentIndex(3);
    b.endApply();
    expect(() => b.setConsistentIndex(2)).toThrow(new InvariantError('backend', 'consistent index going back from 3 to 2'));
    await b.close();
  });
});

/** A Ready loop over a RawNode; onFatal records; `storage` is what the loop sees (may lie about lastIndex). */
function loop(opts: { voters?: bigint[]; lie?: { lastIndex: number | undefined } } = {}) {
  const storage = MemoryStorage.withConfState({ voters: opts.voters ?? [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false });
  const node = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage, rng: () => 0.5 });
  const fatal: unknown[] = [];
  const applied: Entry[] = [];
  const seen = opts.lie === undefined ? storage : new Proxy(storage, {
    get(t, p) {
      if (p === 'lastIndex' && opts.lie!.lastIndex !== undefined) return () => opts.lie!.lastIndex;
      const v = Reflect.get(t, p) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  const wal = { save: async (_hs: HardState | undefined, _es: Entry[]) => undefined, saveSnapshot: async () => undefined };
  const rn = new RaftNode(node, seen, wal as unknown as WAL, {} as Snapshotter, new NoPeersTransport(), {
    applyEntries: (es) => void applied.push(...es),
    applySnapshot: async () => undefined,
    onSoftState: () => undefined,
    onReadStates: () => undefined,
    afterApply: async () => undefined,
    onFatal: (err) => void fatal.push(err),
  }, { tickMs: 1000, logger: pino({ level: 'silent' }) });
  return { node, rn, fatal, applied };
}

const until = async (cond: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 1));
  }
};

describe('the Ready loop: nothing is applied past what is durable', () => {
  it('an entry beyond the durable log stops the member instead of being applied', async () => {
    const lie = { lastIndex: undefined as number | undefined };
    const { node, rn, fatal, applied } = loop({ lie });
    node.campaign();
    rn.kick();
    await until(() => applied.length > 0);
    lie.lastIndex = applied[applied.length - 1]!.index; // the log "ends" here: the next entry is never durable
    rn.propose(B('x'));
    await until(() => fatal.length > 0);
    expect(fatal[0]).toBeInstanceOf(InvariantError);
    expect(String(fatal[0])).toMatch(/server: applying entry \d+ past the durable log \(last durable index \d+\)/);
    expect(applied.some((e) => B('x').equals(Buffer.from(e.data)))).toBe(false);
    await rn.stop();
  });
});

describe('raft: tocommit(X) is out of range [lastIndex(Y)] is fatal', () => {
  it('a leader committing past our log stops the loop with etcd\'s text, and step throws', async () => {
    const { rn, fatal } = loop({ voters: [1n, 2n] });
    const heartbeat: Message = { type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 3, logTerm: 0, index: 0, entries: [], commit: 219, snapshot: undefined, reject: false, rejectHint: 0, context: undefined } as unknown as Message;
    expect(() => rn.step(heartbeat)).toThrow(RaftInvariantError);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toBeInstanceOf(InvariantError);
    expect((fatal[0] as Error).message).toBe('raft: tocommit(219) is out of range [lastIndex(0)]. Was the raft log corrupted, truncated, or lost?');
    expect(() => rn.step(heartbeat)).toThrow(RaftInvariantError); // still refuses, reported once
    expect(fatal).toHaveLength(1);
    await rn.stop();
  });
});

describe('a running member told to commit past its log', () => {
  it('stops with one fatal line carrying etcd\'s text (the process then exits 1, cli/main.ts)', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const { server } = await startMember(dir, { logger });
    const died = new Promise<unknown>((resolve) => server.onFatal(resolve));
    const lastIndex = server.appliedIndex;
    const heartbeat = { type: MessageType.MsgHeartbeat, from: 2n, to: server.memberId, term: 99, logTerm: 0, index: 0, entries: [], commit: lastIndex + 50, reject: false, rejectHint: 0 } as Message;
    expect(() => server.peers.process(heartbeat)).toThrow(RaftInvariantError); // the transport logs it as before
    const err = await died;
    expect(err).toBeInstanceOf(RaftInvariantError);
    const fatal = lines.filter((l) => l.level === 60); // pino's fatal
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toBe('member stopped by a fatal error');
    expect(fatal[0]!.err).toBe(`RaftInvariantError: raft: tocommit(${lastIndex + 50}) is out of range [lastIndex(${lastIndex})]. Was the raft log corrupted, truncated, or lost?`);
    await server.stop();
  });
});

describe('corrupt files have their own error types, and a start maps them to a fatal refusal', () => {
  it('a snapshot file failing its checksum is SnapshotCorruptError', () => {
    const file = encodeSnapFile({ data: B('state'), metadata: { index: 5, term: 2, confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } });
    file[file.length - 1]! ^= 0xff;
    expect(() => decodeSnapFile(file)).toThrow(SnapshotCorruptError);
    expect(() => decodeSnapFile(file.subarray(0, 10))).toThrow(SnapshotCorruptError);
    expect(() => readEtcdSnap(B('\x0a\x03abc'))).toThrow(SnapshotCorruptError);
  });

  it('an etcd WAL without metadata is WalCorruptError', () => {
    expect(() => readEtcdWal([Buffer.alloc(16)])).toThrow(WalCorruptError);
  });

  it('the start refuses with one fatal line for each kind of damage, and not for other errors', () => {
    expect(damageOf(new WalCorruptError('0.wal', 64, 'CRC chain broken'))).toBe('the WAL is corrupt; refusing to start');
    expect(damageOf(new SnapshotCorruptError('checksum mismatch'))).toBe('a snapshot file is corrupt; refusing to start');
    expect(damageOf(new RaftInvariantError('x'))).toBe('an invariant is broken; refusing to start');
    expect(damageOf(new Error('EACCES'))).toBeUndefined();
  });
});
