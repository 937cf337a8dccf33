// A seeded, bounded fuzz of a member's client port (issue 22): random bytes, random HTTP/1.1 requests
// and random gRPC calls (bad flag bytes, length prefixes, payloads, headers; streams ended, reset or
// left open) thrown at an in-process member wired as the daemon wires it; then the member must
// still serve, and the data written before (v3 keys under "data/", v2 keys under /data) must be
// exactly as it was. FUZZ_SEED=n replays another seed.
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../../src/api/http/index.js';
import { v2Api } from '../../../src/api/v2/index.js';
import { createGrpcServer } from '../../../src/api/v3/index.js';
import { listenClient, type ClientListener } from '../../../src/platform/listen.js';
import { removeDir, startMember, tempDir, type TestMember } from '../server/helpers.js';
import { call, clients } from '../api-v3/harness.js';
import { Rng, randomConnectionBytes, randomGrpcCall, randomHttpRequest, type GrpcCall } from './fuzz-inputs.js';

const SEED = Number(process.env.FUZZ_SEED ?? 22);
const ROUNDS = { bytes: 60, http: 200, grpc: 200 };
const BATCH = 50;
const WAIT_MS = 300; // a connection or stream still open after this is closed by the client

let member: TestMember;
let dir: string;
let app: FastifyInstance;
let grpcServer: grpc.Server;
let listener: ClientListener;
let port: number;

beforeAll(async () => {
  dir = await tempDir();
  member = await startMember(dir);
  const maxRequestBytes = 1.5 * 1024 * 1024;
  grpcServer = createGrpcServer(member.facade, { maxRequestBytes });
  const v2 = v2Api(member.facade, { watchTimeoutMs: 200 });
  app = createHttpApp(member.facade, {
    logger: pino({ level: 'silent' }), maxRequestBytes, enableV2: true, plugins: [v2.plugin], rawHandlers: [v2.keys],
  });
  await app.ready();
  listener = await listenClient(new URL('http://127.0.0.1:0'), { grpcServer, http: app });
  port = listener.address.port;
});

afterAll(async () => {
  await listener?.close();
  grpcServer?.forceShutdown();
  await app?.close();
  await member?.server.stop();
  await removeDir(dir);
});

/** Write raw bytes on a fresh connection (then maybe end our side); resolves once it is closed or WAIT_MS passed. */
function rawExchange([bytes, end]: [Buffer, boolean]): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => sock.destroy(), WAIT_MS);
    sock.on('error', () => {});
    sock.on('data', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    sock.write(bytes);
    if (end) sock.end();
  });
}

/** One gRPC call on its own HTTP/2 session, as the client says; resolves when it is over. */
function grpcExchange(c: GrpcCall): Promise<void> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const done = (): void => {
      clearTimeout(timer);
      session.destroy();
      resolve();
    };
    const timer = setTimeout(done, WAIT_MS);
    session.on('error', () => {});
    const req = session.request({ ':method': 'POST', ':path': c.path, ...c.headers });
    req.on('error', () => {});
    req.on('data', () => {});
    req.on('close', done);
    for (const f of c.frames) req.write(f);
    if (c.then === 'end') req.end();
    else if (c.then === 'reset') req.close(http2.constants.NGHTTP2_CANCEL);
  });
}

async function inBatches<T>(items: T[], run: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await Promise.all(items.slice(i, i + BATCH).map(run));
}

async function httpGet(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** The data the fuzz must not touch, as clients read it. */
async function snapshot(): Promise<{ v3: unknown; v2: unknown }> {
  const c = clients(`127.0.0.1:${port}`);
  try {
    const r = await call(c.kv.range.bind(c.kv), { key: Buffer.from('data/'), range_end: Buffer.from('data0') });
    const v3 = (r as { kvs: { key: Buffer; value: Buffer; mod_revision: string; version: string }[] }).kvs
      .map((kv) => [kv.key.toString(), kv.value.toString(), kv.mod_revision, kv.version]);
    const v2 = JSON.parse((await httpGet('/v2/keys/data?recursive=true&sorted=true')).body) as { node: unknown };
    return { v3, v2: v2.node };
  } finally {
    c.close();
  }
}

describe(`the client port under random input (seed ${SEED})`, () => {
  it('keeps serving, and leaves the data it did not aim at unchanged', async () => {
    const c = clients(`127.0.0.1:${port}`);
    for (let i = 0; i < 20; i++) await call(c.kv.put.bind(c.kv), { key: Buffer.from(`data/k${i}`), value: Buffer.from(`v${i}`) });
    c.close();
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/v2/keys/data/d${i % 2}/k${i}`, { method: 'PUT', body: new URLSearchParams({ value: `w${i}` }) });
      expect(res.status).toBe(201);
    }
    const before = await snapshot();
    expect((before.v3 as unknown[]).length).toBe(20);

    const r = new Rng(SEED);
    await inBatches(Array.from({ length: ROUNDS.bytes }, () => [randomConnectionBytes(r), r.chance(0.5)] as [Buffer, boolean]), rawExchange);
    await inBatches(Array.from({ length: ROUNDS.http }, () => [randomHttpRequest(r), r.chance(0.5)] as [Buffer, boolean]), rawExchange);
    await inBatches(Array.from({ length: ROUNDS.grpc }, () => randomGrpcCall(r)), grpcExchange);

    expect(await httpGet('/health')).toEqual({ status: 200, body: '{"health":"true"}' });
    expect(await snapshot()).toEqual(before);
    const after = clients(`127.0.0.1:${port}`);
    await call(after.kv.put.bind(after.kv), { key: Buffer.from('fuzz/after'), value: Buffer.from('ok') });
    const got = await call(after.kv.range.bind(after.kv), { key: Buffer.from('fuzz/after') });
    after.close();
    expect((got as { kvs: { value: Buffer }[] }).kvs.map((kv) => kv.value.toString())).toEqual(['ok']);
  }, 60_000);
});
