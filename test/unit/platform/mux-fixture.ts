// Test fixture: a gRPC server with one unary method (raw bytes, no proto file) and an HTTP/1 handler,
// plus clients for both, to check that one listener serves the two protocols.
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import * as https from 'node:https';

const identity = (b: Buffer): Buffer => b;

export const ECHO_SERVICE: grpc.ServiceDefinition = {
  echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export function echoServer(): grpc.Server {
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, Buffer.concat([Buffer.from('echo:'), call.request])),
  });
  return server;
}

/** HTTP/1 handler: GET answers "http:<path>", POST echoes the body length and content. */
export const httpHandler: http.RequestListener = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.setHeader('content-type', 'text/plain');
    res.end(req.method === 'POST' ? `post:${body.length}:${body.toString()}` : `http:${req.url}`);
  });
};

const EchoClient = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo');

export function grpcEcho(target: string, creds: grpc.ChannelCredentials, msg: string): Promise<string> {
  const client = new EchoClient(target, creds) as unknown as grpc.Client & {
    echo(req: Buffer, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Buffer) => void): void;
  };
  return new Promise((resolve, reject) => {
    client.echo(Buffer.from(msg), { deadline: Date.now() + 10_000 }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res!.toString());
    });
  });
}

export interface GetOptions {
  method?: string;
  body?: string;
  tls?: https.RequestOptions;
  agent?: http.Agent;
}

export function httpRequest(port: number, path: string, o: GetOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const base = { host: '127.0.0.1', port, path, method: o.method ?? 'GET', agent: o.agent };
    const onRes = (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req = o.tls ? https.request({ ...base, ...o.tls }, onRes) : http.request(base, onRes);
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end(o.body);
  });
}
