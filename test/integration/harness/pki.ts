// A throw-away PKI for TLS tests, made with the openssl CLI: one CA, a server certificate valid for
// localhost and 127.0.0.1, and a client certificate for mutual TLS. EC keys (prime256v1) keep the
// whole thing well under a second.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** CN of the client certificate (the MQTT username under `use_identity_as_username`). */
  clientCn: string;
}

export interface PkiOptions {
  /** CN of the client certificate; default 'gw-test'. */
  clientCn?: string;
  /** CN of the CA; change it to make a second, unrelated CA. Default 'fieldgate test CA'. */
  caCn?: string;
}

// Our own openssl config: the Debian default adds CA extensions to every `req -x509`.
const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyAgreement
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
authorityKeyIdentifier = keyid
[v3_client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyAgreement
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Creates the PKI files in `dir` (created if missing) and returns their paths. */
export async function makeTestPki(dir: string, options: PkiOptions = {}): Promise<TestPki> {
  await mkdir(dir, { recursive: true });
  const cnf = join(dir, 'openssl.cnf');
  await writeFile(cnf, OPENSSL_CNF);
  const clientCn = options.clientCn ?? 'gw-test';
  const pki: TestPki = {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    clientCn,
  };
  await run('openssl', [
    'req', '-x509', '-config', cnf, '-extensions', 'v3_ca', ...EC, '-days', '30',
    '-subj', `/CN=${options.caCn ?? 'fieldgate test CA'}`, '-keyout', pki.caKey, '-out', pki.caCert,
  ]);
  const leaf = async (name: string, cn: string, cert: string, key: string, ext: string) => {
    const csr = join(dir, `${name}.csr`);
    await run('openssl', ['req', '-new', '-config', cnf, ...EC, '-subj', `/CN=${cn}`, '-keyout', key, '-out', csr]);
    await run('openssl', [
      'x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-set_serial',
      `0x${randomBytes(8).toString('hex')}`, '-days', '30', '-extfile', cnf, '-extensions', ext, '-out', cert,
    ]);
  };
  await Promise.all([
    leaf('server', 'localhost', pki.serverCert, pki.serverKey, 'v3_server'),
    leaf('client', clientCn, pki.clientCert, pki.clientKey, 'v3_client'),
  ]);
  return pki;
}
