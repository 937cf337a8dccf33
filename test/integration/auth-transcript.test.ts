// etcdctl 3.4's user, role and auth commands, and requests made under them as permitted and refused
// users (by etcdctl, and through the JSON gateway with the Authorization header; /v2/keys, which v3
// auth leaves open), against real etcd 3.4.23 and ours, each a fresh single member, step by step: every output
// (stdout, stderr, exit code) must be the same after masking ids, ports, timings (and tokens, which
// etcdctl never prints). A failure prints a line diff per differing step.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, etcdctl, startEtcd, startMember, type Member } from './harness.js';
import { lineDiff, maskOutput } from './mask.js';

interface Step {
  args: string[];
  input?: string;
  killWhen?: RegExp;
  timeoutMs?: number;
}

/** A request to the JSON gateway (or /v2), with the Authorization header of a token of `who`. */
interface HttpStep {
  http: [method: string, path: string, body: string, who?: 'alice' | 'root' | 'bogus'];
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const root = ['--user', 'root:rootpw'];
const alice = ['--user', 'alice:alicepw'];
const bob = ['--user', 'bob:bobpw'];

const STEPS: (Step | HttpStep)[] = [
  { args: ['auth', 'enable'] },
  { args: ['user', 'add', 'root', '--new-user-password=rootpw'] },
  { args: ['role', 'add', 'reader'] },
  { args: ['role', 'add', 'reader'] },
  { args: ['role', 'grant-permission', 'reader', 'read', 'foo', '--prefix'] },
  { args: ['role', 'add', 'writer'] },
  { args: ['role', 'grant-permission', 'writer', 'readwrite', 'foo/', '--prefix'] },
  { args: ['role', 'grant-permission', 'writer', 'write', 'bar', 'baz'] },
  { args: ['role', 'grant-permission', 'nosuchrole', 'write', 'bar'] },
  { args: ['user', 'add', 'alice:alicepw'] },
  { args: ['user', 'add', 'alice:again'] },
  { args: ['user', 'grant-role', 'alice', 'reader'] },
  { args: ['user', 'grant-role', 'alice', 'writer'] },
  { args: ['user', 'grant-role', 'alice', 'nosuchrole'] },
  { args: ['user', 'add', 'bob', '--new-user-password=bobpw'] },
  { args: ['user', 'list'] },
  { args: ['role', 'list'] },
  { args: ['role', 'get', 'writer'] },
  { args: ['user', 'get', 'alice'] },
  { args: ['user', 'get', 'nobody'] },
  // etcdctl grants root the root role itself when enable is refused for the lack of it
  { args: ['auth', 'enable'] },
  { args: ['user', 'get', 'root', ...root] },
  { args: ['put', 'foo1', 'v1', ...root] },
  { args: ['put', 'foo/a', 'va', ...alice] },
  { args: ['put', 'foo1', 'v2', ...alice] },
  { args: ['get', 'foo1', ...alice] },
  { args: ['get', 'foo', '--prefix', ...alice] },
  { args: ['get', 'bar', ...alice] },
  { args: ['put', 'bar1', 'x', ...alice] },
  { args: ['get', 'foo1', ...bob] },
  { args: ['get', 'foo1'] },
  { args: ['put', 'foo1', 'anon'] },
  { args: ['get', 'foo1', '--user', 'alice:wrong'] },
  { args: ['get', 'foo1', '--user', 'nobody:pw'] },
  { args: ['del', 'foo/a', ...alice] },
  { args: ['del', 'foo1', ...alice] },
  { args: ['txn', ...alice], input: 'value("foo1") = "v1"\n\nget foo1\n\nget foo/a\n\n' },
  { args: ['txn', ...alice], input: 'value("foo1") = "v1"\n\nput foo/b yes\n\nget zzz\n\n' },
  { args: ['txn', ...alice], input: 'value("zzz") = "v1"\n\nput foo/b yes\n\n\n' },
  { args: ['txn', ...root], input: 'value("foo1") = "v1"\n\nput zzz root\n\n\n' },
  { args: ['watch', 'foo1', ...alice], killWhen: /./, timeoutMs: 3000 },
  { args: ['watch', 'zzz', ...alice], killWhen: /./, timeoutMs: 3000 },
  { args: ['user', 'list', ...alice] },
  { args: ['user', 'get', 'alice', ...alice] },
  { args: ['role', 'get', 'reader', ...alice] },
  { args: ['role', 'get', 'reader', ...root] },
  { args: ['user', 'list', ...root] },
  { args: ['endpoint', 'hashkv', ...alice] },
  // the JSON gateway: the token in the Authorization header, etcd's error bodies and statuses
  { http: ['POST', '/v3/kv/range', `{"key":"${b64('foo1')}"}`] },
  { http: ['POST', '/v3/auth/authenticate', '{"name":"alice","password":"bad"}'] },
  { http: ['POST', '/v3/kv/range', `{"key":"${b64('foo1')}"}`, 'alice'] },
  { http: ['POST', '/v3/kv/put', `{"key":"${b64('foo/gw')}","value":"${b64('v')}"}`, 'alice'] },
  { http: ['POST', '/v3/kv/put', `{"key":"${b64('zzz')}","value":"${b64('v')}"}`, 'alice'] },
  { http: ['POST', '/v3/kv/range', `{"key":"${b64('foo1')}"}`, 'bogus'] },
  { http: ['POST', '/v3/kv/txn', `{"success":[{"request_put":{"key":"${b64('zzz')}"}}]}`, 'alice'] },
  { http: ['POST', '/v3/auth/user/list', '{}', 'alice'] },
  { http: ['POST', '/v3/auth/user/list', '{}', 'root'] },
  { http: ['POST', '/v3/auth/role/get', '{"role":"reader"}', 'alice'] },
  { http: ['POST', '/v3/maintenance/hash', '{}', 'alice'] },
  // etcd 3.4's v2 keys are not under v3 auth
  { http: ['PUT', '/v2/keys/v2key', 'value=v2'] },
  { http: ['GET', '/v2/keys/v2key', ''] },
  { args: ['user', 'delete', 'root', ...root] },
  { args: ['user', 'revoke-role', 'root', 'root', ...root] },
  { args: ['role', 'revoke-permission', 'reader', 'foo', '--prefix', ...root] },
  { args: ['get', 'foo1', ...alice] },
  { args: ['role', 'revoke-permission', 'reader', 'foo', '--prefix', ...root] },
  { args: ['user', 'revoke-role', 'alice', 'reader', ...root] },
  { args: ['user', 'passwd', 'alice', '--interactive=false', ...root], input: 'newpw\n' },
  { args: ['get', 'foo/a', '--user', 'alice:newpw'] },
  { args: ['role', 'delete', 'writer', ...root] },
  { args: ['user', 'get', 'alice', ...root] },
  { args: ['user', 'delete', 'bob', ...root] },
  { args: ['auth', 'disable', ...alice] },
  { args: ['auth', 'disable', ...root] },
  { args: ['get', 'foo1'] },
  { args: ['get', 'foo1', ...root] },
  { args: ['user', 'list'] },
];

async function gateway(m: Member, s: HttpStep): Promise<string> {
  const [method, path, body, who] = s.http;
  const headers: Record<string, string> = { 'content-type': path.startsWith('/v2/') ? 'application/x-www-form-urlencoded' : 'application/json' };
  if (who === 'bogus') headers.authorization = 'bogus';
  else if (who !== undefined) {
    const a = await fetch(`${m.clientUrl}/v3/auth/authenticate`, { method: 'POST', body: JSON.stringify({ name: who, password: `${who}pw` }) });
    headers.authorization = ((await a.json()) as { token: string }).token;
  }
  const r = await fetch(`${m.clientUrl}${path}`, { method, headers, ...(method === 'GET' ? {} : { body }) });
  const text = (await r.text()).replace(/"(cluster_id|member_id)":"\d+"/g, '"$1":"ID"').replace(/"(modifiedIndex|createdIndex)":\d+/g, '"$1":N');
  return maskOutput(`$ ${method} ${path} ${body}${who ? ` (token of ${who})` : ''}\n[${r.status}]\n${text}\n`, m);
}

async function play(m: Member): Promise<string[]> {
  const blocks: string[] = [];
  for (const s of STEPS) {
    if ('http' in s) {
      blocks.push(await gateway(m, s));
      continue;
    }
    const r = await etcdctl(m, s.args, { input: s.input, killWhen: s.killWhen, timeoutMs: s.timeoutMs });
    const code = r.code === null ? 'killed' : String(r.code);
    const out = `$ etcdctl ${s.args.join(' ')}${s.input ? ` <<< ${JSON.stringify(s.input)}` : ''}\n[exit ${code}]\n${r.stdout}${r.stderr ? `--- stderr\n${r.stderr}` : ''}`;
    blocks.push(maskOutput(out, m));
  }
  return blocks;
}

describe('etcdctl auth transcript: ours vs etcd 3.4.23', () => {
  let ours: Member;
  let etcd: Member;
  beforeAll(async () => {
    [ours, etcd] = await Promise.all([startMember({ ready: 'status', args: ['--bcrypt-cost', '4'] }), startEtcd({ ready: 'status', args: ['--bcrypt-cost', '4', '--enable-v2=true'] })]);
  });
  afterAll(cleanup);

  it(`${STEPS.length} commands give identical masked outputs`, async () => {
    const [a, b] = await Promise.all([play(etcd), play(ours)]); // two members of their own: side by side
    const keep = process.env.COMPARE_TRANSCRIPT_DIR;
    if (keep) await Promise.all([writeFile(join(keep, 'auth-etcd.txt'), a.join('\n')), writeFile(join(keep, 'auth-ours.txt'), b.join('\n'))]);
    const diffs: string[] = [];
    a.forEach((blk, i) => {
      if (blk !== b[i]) diffs.push(lineDiff(blk, b[i] ?? '', 'etcd 3.4.23', 'ours'));
    });
    expect(diffs.length, `${diffs.length} of ${STEPS.length} steps differ:\n\n${diffs.join('\n\n')}`).toBe(0);
  }, 300_000);
});
