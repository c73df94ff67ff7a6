/**
 * Certificates made at test time with the openssl command, in a temp directory: a CA, and certificates
 * it signs (a broker's, clients'), as PEM files.
 *
 *   const pki = await TestPki.create();
 *   const server = pki.issue('server', '/CN=localhost/O=Gregor Test', { san: 'DNS:localhost,IP:127.0.0.1' });
 *   // server.key, server.cert, server.pem (key + chain), pki.caCert
 *   await pki.remove();
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issued {
  /** Private key (PKCS#8 PEM file). */
  readonly key: string;
  /** Certificate (PEM file). */
  readonly cert: string;
  /** Key, certificate and CA certificate in one PEM file (a PEM key store). */
  readonly pem: string;
  /** The same, read. */
  readonly keyText: string;
  readonly certText: string;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export class TestPki {
  private constructor(
    readonly dir: string,
    /** CA certificate (PEM file). */
    readonly caCert: string,
    private readonly caKey: string,
  ) {}

  get caCertText(): string {
    return readFileSync(this.caCert, 'utf8');
  }

  static async create(caSubject = '/CN=Gregor Test CA'): Promise<TestPki> {
    const dir = await mkdtemp(join(tmpdir(), 'gregor-pki-'));
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', caSubject], dir);
    return new TestPki(dir, join(dir, 'ca.crt'), join(dir, 'ca.key'));
  }

  /** Another CA in the same directory (for certificates nobody trusts). */
  async otherCa(name: string): Promise<TestPki> {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-ca.key`, '-out', `${name}-ca.crt`, '-days', '2', '-subj', `/CN=${name} CA`], this.dir);
    return new TestPki(this.dir, join(this.dir, `${name}-ca.crt`), join(this.dir, `${name}-ca.key`));
  }

  /** A key and a certificate signed by this CA; `keyPassword` encrypts the key (PKCS#8, AES-256). */
  issue(name: string, subject: string, opts: { san?: string; keyPassword?: string; ec?: boolean } = {}): Issued {
    const dir = this.dir;
    if (opts.ec) openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.plain.key`], dir);
    else openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}.plain.key`], dir);
    if (opts.keyPassword === undefined) openssl(['pkcs8', '-topk8', '-nocrypt', '-in', `${name}.plain.key`, '-out', `${name}.key`], dir);
    else openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', `${name}.plain.key`, '-out', `${name}.key`, '-passout', `pass:${opts.keyPassword}`], dir);
    openssl(['req', '-new', '-key', `${name}.plain.key`, '-out', `${name}.csr`, '-subj', subject], dir);
    const extArgs: string[] = [];
    if (opts.san !== undefined) {
      execFileSync('sh', ['-c', `printf 'subjectAltName=${opts.san}\\n' > ${name}.ext`], { cwd: dir });
      extArgs.push('-extfile', `${name}.ext`);
    }
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', this.caCert, '-CAkey', this.caKey, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...extArgs], dir);
    const keyText = readFileSync(join(dir, `${name}.key`), 'utf8');
    const certText = readFileSync(join(dir, `${name}.crt`), 'utf8');
    execFileSync('sh', ['-c', `cat ${name}.key ${name}.crt ${JSON.stringify(this.caCert)} > ${name}.pem`], { cwd: dir });
    return { key: join(dir, `${name}.key`), cert: join(dir, `${name}.crt`), pem: join(dir, `${name}.pem`), keyText, certText };
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
