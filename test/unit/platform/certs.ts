// Test helper: a CA, a server certificate for 127.0.0.1/localhost and a client certificate, made
// with the openssl command. Throws (the test fails, never skips) when openssl is missing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestCerts {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed CA `<name>.crt`/`<name>.key` in dir. */
export function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`], dir);
}

/** `<name>.crt`/`<name>.key` in dir, signed by the CA `<ca>.crt`, with these openssl extension lines. */
export function issue(dir: string, name: string, subj: string, ext: string, ca = 'ca'): void {
  writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj], dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etcd-certs-'));
  makeCa(dir, 'ca');
  issue(dir, 'server', '/CN=server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue(dir, 'client', '/CN=client', 'subjectAltName=DNS:client.example\nextendedKeyUsage=clientAuth\n');
  const p = (f: string) => path.join(dir, f);
  return {
    dir,
    caFile: p('ca.crt'), certFile: p('server.crt'), keyFile: p('server.key'),
    clientCertFile: p('client.crt'), clientKeyFile: p('client.key'),
    ca: readFileSync(p('ca.crt')), cert: readFileSync(p('server.crt')), key: readFileSync(p('server.key')),
    clientCert: readFileSync(p('client.crt')), clientKey: readFileSync(p('client.key')),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A CRL from the test CA that revokes the client certificate (openssl ca with a minimal config). */
export function revokeClientCert(c: TestCerts): Buffer {
  writeFileSync(path.join(c.dir, 'ca.cnf'), [
    '[ ca ]', 'default_ca = CA_default', '[ CA_default ]', 'database = index.txt', 'crlnumber = crlnumber',
    'default_md = sha256', 'default_crl_days = 2', 'certificate = ca.crt', 'private_key = ca.key', '',
  ].join('\n'));
  writeFileSync(path.join(c.dir, 'index.txt'), '');
  writeFileSync(path.join(c.dir, 'crlnumber'), '01\n');
  openssl(['ca', '-config', 'ca.cnf', '-revoke', 'client.crt'], c.dir);
  openssl(['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'crl.pem'], c.dir);
  return readFileSync(path.join(c.dir, 'crl.pem'));
}
