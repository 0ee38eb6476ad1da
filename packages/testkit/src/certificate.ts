import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway key and self-signed certificate (PEM) for 127.0.0.1, and the certificate's file. */
export interface Certificate {
  readonly key: string;
  readonly cert: string;
  /** The certificate as a file, e.g. for `NODE_EXTRA_CA_CERTS`. */
  readonly certFile: string;
  remove(): void;
}

/**
 * Generates a P-256 key and a one-day self-signed certificate whose subjectAltName is IP 127.0.0.1, so
 * that a client that trusts it verifies the stand-in's https exactly as it would a real server's.
 */
export function selfSignedCertificate(): Certificate {
  const dir = mkdtempSync(join(tmpdir(), 'citrix-standin-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    '/usr/bin/openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'pipe' },
  );
  return {
    key: readFileSync(keyFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    certFile,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
