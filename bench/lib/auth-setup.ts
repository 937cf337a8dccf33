// The auth cases' member: etcd's users and roles turned on through the Auth service, as an operator
// would with etcdctl (root with the root role; a user `bench` whose role may read and write every key
// the generator makes, the decimal keys of keys.ts: ["0", ":")), then a simple token of `bench`.
// Requests then carry that token and are checked against bench's permissions (root would skip them).
import { call, load, type Unary } from './proto.js';
import * as grpc from '@grpc/grpc-js';

const BENCH_USER = { name: 'bench', password: 'benchpw' };

function authClient(endpoint: string): grpc.Client & Record<string, Unary> {
  const p = load();
  return new p.Auth(endpoint, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Unary>;
}

/** Users, roles and auth enable on a fresh member (--bcrypt-cost as the member was started with). */
export async function enableAuth(endpoint: string): Promise<void> {
  const a = authClient(endpoint);
  try {
    await call(a.RoleAdd!, a, { name: 'root' });
    await call(a.UserAdd!, a, { name: 'root', password: 'rootpw' });
    await call(a.UserGrantRole!, a, { user: 'root', role: 'root' });
    await call(a.RoleAdd!, a, { name: 'bench' });
    await call(a.RoleGrantPermission!, a, { name: 'bench', perm: { permType: 'READWRITE', key: Buffer.from('0'), range_end: Buffer.from(':') } });
    await call(a.UserAdd!, a, BENCH_USER);
    await call(a.UserGrantRole!, a, { user: 'bench', role: 'bench' });
    await call(a.AuthEnable!, a, {});
  } finally {
    a.close();
  }
}

/** A fresh simple token of the bench user (taken before each run: a token lives --auth-token-ttl after its last use). */
export async function benchToken(endpoint: string): Promise<string> {
  const a = authClient(endpoint);
  try {
    return String((await call<{ token: string }>(a.Authenticate!, a, BENCH_USER)).token);
  } finally {
    a.close();
  }
}
