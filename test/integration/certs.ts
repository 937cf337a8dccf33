// Certificates for TLS tests, made with openssl (fails, not skips, without it): a CA, one
// certificate for the members (server and client use, SAN IP:127.0.0.1 and localhost), one for
// clients, and a stranger's CA with a client certificate that the members must refuse.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Certs {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  strangerCert: string;
  strangerKey: string;
}

const OPENSSL = '/usr/bin/openssl';

function openssl(args: string[], cwd: string): void {
  execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function issue(dir: string, name: string, ca: string, cn: string, ext: string): void {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`], dir);
}

/** One more client certificate from the CA of makeCerts(dir), with common name `cn` (auth's certificate users). */
export function issueClientCert(dir: string, name: string, cn: string): { cert: string; key: string } {
  issue(dir, name, 'ca', cn, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

export function makeCerts(dir: string): Certs {
  if (!existsSync(OPENSSL)) throw new Error(`${OPENSSL} missing: apt-get install -y openssl`);
  makeCa(dir, 'ca');
  makeCa(dir, 'stranger-ca');
  const both = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n';
  issue(dir, 'server', 'ca', 'etcd-member', both);
  issue(dir, 'client', 'ca', 'root', both);
  issue(dir, 'stranger', 'stranger-ca', 'stranger', both);
  const f = (n: string): string => join(dir, n);
  return {
    caCert: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key'),
    strangerCert: f('stranger.crt'), strangerKey: f('stranger.key'),
  };
}
