// Does the client-port sniff cost anything? Same HTTP/1 handler, served (a) by a plain http.Server
// and (b) through listenClient's multiplexer; measured per request on a keep-alive connection (the
// sniff happened once, at connect) and per fresh connection (one sniff per iteration).
// Run by hand: npx vitest bench --run test/unit/platform/listen-sniff.bench.ts
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import * as net from 'node:net';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { listenClient, type ClientListener } from '../../../src/platform/listen.js';

const handler: http.RequestListener = (_req, res) => res.end('ok');
let plain: http.Server;
let plainPort = 0;
let mux: ClientListener;
const grpcServer = new grpc.Server();
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
const fresh = new http.Agent({ keepAlive: false });

function get(port: number, agent: http.Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/health', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    }).on('error', reject);
  });
}

beforeAll(async () => {
  plain = http.createServer(handler);
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
  plainPort = (plain.address() as net.AddressInfo).port;
  mux = await listenClient(new URL('http://127.0.0.1:0'), { grpcServer, http: handler });
});
afterAll(async () => {
  keepAlive.destroy();
  fresh.destroy();
  await mux.close();
  await new Promise((r) => plain.close(r));
});

describe('keep-alive request (sniffed once per connection)', () => {
  bench('plain http.Server', () => get(plainPort, keepAlive), { time: 1500 });
  bench('listenClient multiplexer', () => get(mux.address.port, keepAlive), { time: 1500 });
});

describe('new connection per request (one sniff each)', () => {
  bench('plain http.Server', () => get(plainPort, fresh), { time: 1500 });
  bench('listenClient multiplexer', () => get(mux.address.port, fresh), { time: 1500 });
});
