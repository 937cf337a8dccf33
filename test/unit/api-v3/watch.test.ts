// The watch stream protocol through a real grpc client, the server side faked per stream.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { FakeWatchStream, clients, fakeFacade, startH2Server, startServer, type Running } from './harness.js';
import type { WatchRequest } from '../../../src/pb/etcdserverpb/WatchRequest.js';
import type { WatchResponse__Output } from '../../../src/pb/etcdserverpb/WatchResponse.js';
import type { Event } from '../../../src/pb/mvccpb/Event.js';
import type { WatchBatch } from '../../../src/server/facade.js';
import { fragmentResponse } from '../../../src/api/v3/watch.js';

const MAX_REQUEST_BYTES = 4096;

const ev = (key: string, rev: number, value = 'v'): Event => ({
  type: 'PUT',
  kv: { key: Buffer.from(key), value: Buffer.from(value), create_revision: rev, mod_revision: rev, version: 1 },
});

// Every case against grpc-js and against the JavaScript HTTP/2 (the client port's default, where live
// events go pre-encoded through H2Call.writeFramed).
describe.each([
  ['grpc-js', startServer],
  ['the JavaScript HTTP/2', startH2Server],
])('watch stream (%s)', (_name, start) => {
  const streams: FakeWatchStream[] = [];
  let srv: Running;
  let c: ReturnType<typeof clients>;
  beforeAll(async () => {
    const facade = fakeFacade({
      openWatchStream: (sink) => {
        const s = new FakeWatchStream(sink);
        streams.push(s);
        return s;
      },
    });
    srv = await start(facade, { maxRequestBytes: MAX_REQUEST_BYTES });
    c = clients(srv.address);
  });
  afterAll(async () => {
    c.close();
    await srv.stop();
  });

  type Stream = ClientDuplexStream<WatchRequest, WatchResponse__Output>;
  let open: Stream[] = [];
  afterEach(() => {
    for (const s of open) s.cancel();
    open = [];
  });

  /** A client stream with a queue of received responses and `next()` to await them in order. */
  function watchClient() {
    const stream = c.watch.Watch() as Stream;
    open.push(stream);
    const queue: WatchResponse__Output[] = [];
    let waiter: (() => void) | undefined;
    stream.on('data', (r: WatchResponse__Output) => {
      queue.push(r);
      waiter?.();
    });
    stream.on('error', () => undefined);
    return {
      stream,
      async next(): Promise<WatchResponse__Output> {
        while (queue.length === 0) await new Promise<void>((r) => (waiter = r));
        return queue.shift()!;
      },
      pending: () => queue.length,
    };
  }

  async function serverStream(n: number): Promise<FakeWatchStream> {
    while (streams.length < n) await new Promise((r) => setTimeout(r, 5));
    return streams[n - 1]!;
  }

  it('creates watchers with server-chosen and client-chosen ids, delivers events in order', async () => {
    const w = watchClient();
    w.stream.write({ create_request: { key: Buffer.from('foo'), start_revision: 0 } });
    const created = await w.next();
    expect(created).toMatchObject({ created: true, watch_id: '0', canceled: false });
    expect(created.header!.revision).toBe('41');
    const s = await serverStream(streams.length);
    expect(s.specs[0]).toMatchObject({ watchId: 0, startRevision: 42, noPut: false, prevKv: false });
    expect(s.specs[0]!.key.toString()).toBe('foo');

    w.stream.write({ create_request: { key: Buffer.from('a'), range_end: Buffer.from([0]), watch_id: 7, filters: ['NOPUT'], prev_kv: true, start_revision: 3 } });
    expect(await w.next()).toMatchObject({ created: true, watch_id: '7' });
    expect(s.specs[1]).toMatchObject({ watchId: 7, startRevision: 3, noPut: true, noDelete: false, prevKv: true });
    expect([...s.specs[1]!.rangeEnd]).toEqual([0]);

    expect(s.sink.send({ watchId: 0, events: [ev('foo', 42), ev('foo', 43)], revision: 43, compactRevision: 0 })).toBe(true);
    const got = await w.next();
    expect(got).toMatchObject({ watch_id: '0', created: false, canceled: false, fragment: false });
    expect(got.header!.revision).toBe('43');
    expect(got.events.map((e) => e.kv!.mod_revision)).toEqual(['42', '43']);
  });

  it('refuses a duplicate watch id and an empty range with canceled + cancel_reason', async () => {
    const w = watchClient();
    w.stream.write({ create_request: { key: Buffer.from('x'), watch_id: 5 } });
    expect(await w.next()).toMatchObject({ created: true, watch_id: '5' });
    w.stream.write({ create_request: { key: Buffer.from('y'), watch_id: 5 } });
    expect(await w.next()).toMatchObject({
      created: true, canceled: true, watch_id: '-1', cancel_reason: 'mvcc: duplicate watch ID provided on the WatchStream',
    });
    w.stream.write({ create_request: { key: Buffer.from('b'), range_end: Buffer.from('a') } });
    expect(await w.next()).toMatchObject({ created: true, canceled: true, watch_id: '-1', cancel_reason: 'mvcc: watcher range is empty' });
    // auto ids skip ids the client took
    w.stream.write({ create_request: { key: Buffer.from('z') } });
    expect(await w.next()).toMatchObject({ created: true, watch_id: '0' });
  });

  it('cancels a watcher, answers progress requests with watch_id -1, ignores unknown cancels', async () => {
    const w = watchClient();
    w.stream.write({ create_request: { key: Buffer.from('k') } });
    await w.next();
    const s = await serverStream(streams.length);
    s.rev = 50;
    w.stream.write({ cancel_request: { watch_id: 12345 } });
    w.stream.write({ progress_request: {} });
    const progress = await w.next();
    expect(progress).toMatchObject({ watch_id: '-1', created: false, canceled: false, events: [] });
    expect(progress.header!.revision).toBe('50');
    w.stream.write({ cancel_request: { watch_id: 0 } });
    expect(await w.next()).toMatchObject({ watch_id: '0', canceled: true });
    expect(s.canceled).toEqual([0]);
    // events for a canceled watcher are dropped
    expect(s.sink.send({ watchId: 0, events: [ev('k', 51)], revision: 51, compactRevision: 0 })).toBe(true);
    w.stream.write({ progress_request: {} });
    expect((await w.next()).watch_id).toBe('-1');
  });

  it('a server that answers progress requests itself: asked, and its batch with watch id -1 goes out as the answer', async () => {
    const w = watchClient();
    w.stream.write({ create_request: { key: Buffer.from('k') } });
    await w.next();
    const s = await serverStream(streams.length);
    let asked = 0;
    (s as FakeWatchStream & { requestProgress?: () => void }).requestProgress = () => asked++;
    w.stream.write({ progress_request: {} });
    await new Promise((r) => setTimeout(r, 50));
    expect(asked).toBe(1);
    s.sink.send({ watchId: 0, events: [ev('k', 70)], revision: 70, compactRevision: 0 });
    expect(s.sink.send({ watchId: -1, events: [], revision: 70, compactRevision: 0 })).toBe(true);
    expect((await w.next()).events!.length).toBe(1);
    const p = await w.next();
    expect(p).toMatchObject({ watch_id: '-1', events: [], canceled: false, created: false });
    expect(p.header!.revision).toBe('70');
  });

  it('cancels with compact_revision when the start revision was compacted', async () => {
    const w = watchClient();
    w.stream.write({ create_request: { key: Buffer.from('k'), start_revision: 2 } });
    await w.next();
    const s = await serverStream(streams.length);
    s.sink.send({ watchId: 0, events: [], revision: 41, compactRevision: 3 });
    expect(await w.next()).toMatchObject({ watch_id: '0', canceled: true, compact_revision: '3' });
    // its id stays taken until canceled, as in etcd: the cancel is answered
    w.stream.write({ cancel_request: { watch_id: 0 } });
    expect(await w.next()).toMatchObject({ watch_id: '0', canceled: true });
    // etcd cancels a start revision below -1 before any compaction with compact_revision -1
    w.stream.write({ create_request: { key: Buffer.from('n'), start_revision: -2 } });
    expect(await w.next()).toMatchObject({ created: true, watch_id: '1' });
    s.sink.send({ watchId: 1, events: [], revision: 0, compactRevision: -1 });
    expect(await w.next()).toMatchObject({ watch_id: '1', canceled: true, compact_revision: '-1' });
    // a progress notification (no events, no compaction) for a live watcher
    w.stream.write({ create_request: { key: Buffer.from('p'), progress_notify: true } });
    expect(await w.next()).toMatchObject({ created: true, watch_id: '2' });
    s.sink.send({ watchId: 2, events: [], revision: 60, compactRevision: 0 });
    const p = await w.next();
    expect(p).toMatchObject({ watch_id: '2', events: [], canceled: false });
    expect(p.header!.revision).toBe('60');
  });

  it('delivers events sent during creation only after the created response', async () => {
    const w = watchClient();
    // make the fake send historical events synchronously inside watch()
    w.stream.write({ create_request: { key: Buffer.from('h') } });
    await w.next();
    const s = await serverStream(streams.length);
    const orig = s.watch.bind(s);
    s.watch = (spec) => {
      const r = orig(spec);
      s.sink.send({ watchId: spec.watchId, events: [ev('h', 10)], revision: 41, compactRevision: 0 });
      return r;
    };
    w.stream.write({ create_request: { key: Buffer.from('h'), start_revision: 10 } });
    expect(await w.next()).toMatchObject({ created: true, watch_id: '1' });
    expect(await w.next()).toMatchObject({ watch_id: '1', created: false });
  });

  it('splits a large revision into fragments when the watcher asked for it', async () => {
    const w = watchClient();
    w.stream.write({ create_request: { key: Buffer.from('f'), fragment: true } });
    await w.next();
    const s = await serverStream(streams.length);
    // etcd's watch server fragments at max-request-bytes + 512 KiB: 10 KB goes whole
    const over = Array.from({ length: 10 }, (_, i) => ev(`f${i}`, 69, 'x'.repeat(1000)));
    s.sink.send({ watchId: 0, events: over, revision: 69, compactRevision: 0 });
    expect(await w.next()).toMatchObject({ fragment: false, events: { length: 10 } });
    const big = Array.from({ length: 12 }, (_, i) => ev(`f${i}`, 70, 'x'.repeat(50_000)));
    s.sink.send({ watchId: 0, events: big, revision: 70, compactRevision: 0 });
    const pieces: WatchResponse__Output[] = [];
    for (;;) {
      const r = await w.next();
      pieces.push(r);
      if (!r.fragment) break;
    }
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.flatMap((p) => p.events.map((e) => e.kv!.key.toString()))).toEqual(big.map((e) => e.kv!.key!.toString()));
    expect(pieces.slice(0, -1).every((p) => p.fragment)).toBe(true);
  });

  it('keeps delivering after the client half-closes, as etcd', async () => {
    const w = watchClient();
    w.stream.write({ create_request: { key: Buffer.from('hc') } });
    await w.next();
    const s = await serverStream(streams.length);
    w.stream.end();
    await new Promise((r) => setTimeout(r, 50));
    expect(s.closed).toBe(false);
    expect(s.sink.send({ watchId: 0, events: [ev('hc', 80)], revision: 80, compactRevision: 0 })).toBe(true);
    expect((await w.next()).events[0]!.kv!.mod_revision).toBe('80');
  });

  it('delivers a burst of one turn whole and in order, past the frame size and the client\'s windows', async () => {
    const w = watchClient();
    w.stream.write({ create_request: { key: Buffer.from('burst') } });
    w.stream.write({ create_request: { key: Buffer.from('burst'), watch_id: 300 } });
    await w.next();
    await w.next();
    const s = await serverStream(streams.length);
    // 2 x 400 responses of ~330 bytes, as many in one turn as the sink takes (~260 KB against the
    // client's 64 KB windows); a refused one is offered again later, as the server does
    const shared = [ev('burst', 90, 'z'.repeat(300))];
    const batches: WatchBatch[] = [];
    for (let rev = 100; rev < 500; rev++) {
      const events = rev % 2 === 0 ? shared : [ev('burst', rev, 'y'.repeat(300))];
      batches.push({ watchId: 0, events, revision: rev, compactRevision: 0 }, { watchId: 300, events, revision: rev, compactRevision: 0 });
    }
    batches.push({ watchId: 300, events: [], revision: 500, compactRevision: 0 });
    let refused = 0;
    void (async () => {
      for (const b of batches) {
        while (!s.sink.send(b)) {
          refused++;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    })();
    const got: string[] = [];
    for (let i = 0; i < 801; i++) {
      const r = await w.next();
      got.push(`${r.watch_id}@${r.header!.revision}:${r.events.map((e) => e.kv!.mod_revision).join()}`);
    }
    const want: string[] = [];
    for (let rev = 100; rev < 500; rev++) {
      const mod = rev % 2 === 0 ? 90 : rev;
      want.push(`0@${rev}:${mod}`, `300@${rev}:${mod}`);
    }
    want.push('300@500:');
    expect(got).toEqual(want);
    expect(refused).toBeGreaterThan(0); // the client's windows held some back
  });

  it('closes the server side when the client cancels', async () => {
    const w = watchClient();
    w.stream.write({ create_request: { key: Buffer.from('q') } });
    await w.next();
    const s = await serverStream(streams.length);
    w.stream.cancel();
    while (!s.closed) await new Promise((r) => setTimeout(r, 5));
    expect(s.closed).toBe(true);
  });
});

describe('fragmentResponse (etcd sendFragments)', () => {
  it('leaves small responses and single events whole', () => {
    const one = { watch_id: 1, events: [ev('a', 1, 'x'.repeat(10_000))] };
    expect(fragmentResponse(one, 100)).toEqual([one]);
    const small = { watch_id: 1, events: [ev('a', 1), ev('b', 1)] };
    expect(fragmentResponse(small, 10_000)).toEqual([small]);
  });

  it('keeps every piece below the limit unless it holds one event', () => {
    const events = Array.from({ length: 7 }, (_, i) => ev(`k${i}`, 5, 'y'.repeat(300)));
    const pieces = fragmentResponse({ watch_id: 3, events }, 1000);
    expect(pieces.map((p) => p.events!.length).reduce((a, b) => a + b)).toBe(7);
    expect(pieces.map((p) => p.fragment)).toEqual([...Array(pieces.length - 1).fill(true), false]);
    expect(pieces.length).toBe(3); // 3 events of ~330 bytes fit under 1000, then 3, then 1
  });
});
