#!/usr/bin/env node
// A 3-member TLS cluster on this machine in one command: `npm run demo-cluster`.
// Makes a CA, a member certificate and a client certificate with openssl under ./demo-cluster/certs
// (or uses --auto-tls/--peer-auto-tls when openssl is missing), starts three members of ours on
// etcd's Procfile ports (clients 2379, 22379, 32379; peers 2380, 22380, 32380; --base-port moves
// them) with their data under ./demo-cluster, prints the etcdctl line to reach them, and stops them
// all on Ctrl-C. Run `npm install` first (it builds dist/).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const dir = resolve(opt('dir', 'demo-cluster'));
const base = Number(opt('base-port', '2379'));
if (!Number.isInteger(base) || base < 1 || base + 30001 > 65535) {
  console.error(`--base-port ${opt('base-port', '')}: the members use it, +20000 and +30000 (and each +1), so it must be 1..35534`);
  process.exit(2);
}
const ports = [0, 20000, 30000].map((d) => ({ client: base + d, peer: base + d + 1 }));

function haveOpenssl() {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function makeCerts(certs) {
  mkdirSync(certs, { recursive: true });
  const ossl = (a) => execFileSync('openssl', a, { cwd: certs, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  if (!existsSync(join(certs, 'ca.crt'))) ossl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '365', '-subj', '/CN=demo-ca']);
  const ext = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n';
  for (const [name, cn] of [['server', 'demo-member'], ['client', 'demo-client']]) {
    if (existsSync(join(certs, `${name}.crt`))) continue;
    writeFileSync(join(certs, `${name}.ext`), ext);
    ossl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    ossl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '365', '-extfile', `${name}.ext`]);
  }
}

if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm install` (or `npm run build`) first');
  process.exit(1);
}
const certs = join(dir, 'certs');
const openssl = haveOpenssl();
if (openssl) makeCerts(certs);
const tls = openssl
  ? ['--cert-file', join(certs, 'server.crt'), '--key-file', join(certs, 'server.key'), '--trusted-ca-file', join(certs, 'ca.crt'), '--client-cert-auth',
    '--peer-cert-file', join(certs, 'server.crt'), '--peer-key-file', join(certs, 'server.key'), '--peer-trusted-ca-file', join(certs, 'ca.crt'), '--peer-client-cert-auth']
  : ['--auto-tls', '--peer-auto-tls'];
const initialCluster = ports.map((p, i) => `infra${i + 1}=https://127.0.0.1:${p.peer}`).join(',');
const children = ports.map((p, i) => {
  const name = `infra${i + 1}`;
  const c = `https://127.0.0.1:${p.client}`;
  const child = spawn(process.execPath, [join(root, 'bin', 'etcd'),
    '--name', name, '--data-dir', join(dir, `${name}.etcd`),
    '--listen-client-urls', c, '--advertise-client-urls', c,
    '--listen-peer-urls', `https://127.0.0.1:${p.peer}`, '--initial-advertise-peer-urls', `https://127.0.0.1:${p.peer}`,
    '--initial-cluster', initialCluster, '--initial-cluster-token', 'demo-cluster', '--initial-cluster-state', 'new', ...tls,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (d) => {
    if (process.env.DEMO_VERBOSE) process.stderr.write(d);
    for (const line of d.toString().split('\n')) if (/"level":(5|6)0|"level":"(error|fatal)"/.test(line)) console.error(`${name}: ${line}`);
  });
  child.on('exit', (code, signal) => console.log(`${name} exited (${signal ?? code})`));
  return child;
});
const endpoints = ports.map((p) => `127.0.0.1:${p.client}`).join(',');
const ctlTls = openssl ? `--cacert ${join(certs, 'ca.crt')} --cert ${join(certs, 'client.crt')} --key ${join(certs, 'client.key')}` : '--insecure-skip-tls-verify';
console.log(`three members starting, data under ${dir}; reach them with:\n`);
console.log(`  ETCDCTL_API=3 etcdctl --endpoints ${endpoints} ${ctlTls} endpoint status -w table\n`);
console.log('Ctrl-C stops all three.');
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(0), 10_000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r))))).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
