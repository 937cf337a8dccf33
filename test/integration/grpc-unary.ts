// One unary call through a grpc-js client of etcd's services, with an auth token in the metadata
// when given (the auth tests' way of calling as a user).
import * as grpc from '@grpc/grpc-js';

type Unary = (req: object, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => unknown;

export function unary(client: grpc.Client, method: string, req: object, token?: string): Promise<Record<string, unknown>> {
  const md = new grpc.Metadata();
  if (token !== undefined) md.set('token', token);
  const fn = (client as unknown as Record<string, Unary>)[method]!.bind(client) as Unary;
  return new Promise((resolve, reject) => fn(req, md, (err, res) => (err ? reject(err) : resolve(res as Record<string, unknown>))));
}
