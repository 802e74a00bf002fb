/**
 * The TLS files a fleet file names: `broker.tls` (CA, client certificate and key for
 * `mqtts://` / `wss://`) and `gateway.https` (the gateway's certificate and key).
 * `loadFleetFile` reads and checks them once, so that a missing file, a file that is
 * not PEM, or a key that does not belong to its certificate is a CONFIG_TLS_FILE error
 * naming the field and the path, before any connection is tried; a service reads them
 * again when it starts (`readBrokerTls`, `readGatewayHttps`), with the same errors.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ConfigIssue, RuntimeError } from '../errors.ts';
import type { BrokerTlsConfig, Fleet, GatewayHttpsConfig } from './fleet-schema.ts';

/** PEM contents for `connectMqtt`'s `tls` option. */
export interface BrokerTlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

/** PEM contents for an HTTPS server (fastify's `https` option). */
export interface HttpsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

type Kind = 'certificate' | 'key';

interface PemFile {
  /** JSON pointer of the field that names the file, e.g. `/broker/tls/ca`. */
  field: string;
  path: string;
  kind: Kind;
}

/** Reads `broker.tls`'s files; undefined when the fleet file has no `broker.tls`. */
export function readBrokerTls(tls: BrokerTlsConfig | undefined): BrokerTlsMaterial | undefined {
  if (!tls) return undefined;
  const pem = readChecked(brokerFiles(tls));
  return {
    ...(pem.ca ? { ca: pem.ca } : {}),
    ...(pem.cert ? { cert: pem.cert } : {}),
    ...(pem.key ? { key: pem.key } : {}),
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}

/** Reads `gateway.https`'s files; undefined when the gateway serves plain HTTP. */
export function readGatewayHttps(https: GatewayHttpsConfig | undefined): HttpsMaterial | undefined {
  if (!https) return undefined;
  const pem = readChecked(httpsFiles(https));
  return { cert: pem.cert!, key: pem.key!, ...(pem.ca ? { ca: pem.ca } : {}) };
}

/** Every TLS file of the fleet, read and checked; throws CONFIG_TLS_FILE listing each bad one. */
export function checkTlsFiles(fleet: Fleet): void {
  const issues = [
    ...(fleet.broker.tls ? check(brokerFiles(fleet.broker.tls)).issues : []),
    ...(fleet.gateway.https ? check(httpsFiles(fleet.gateway.https)).issues : []),
  ];
  if (issues.length > 0) throw tlsError(issues);
}

function brokerFiles(tls: BrokerTlsConfig): PemFile[] {
  const out: PemFile[] = [];
  if (tls.ca) out.push({ field: '/broker/tls/ca', path: tls.ca, kind: 'certificate' });
  if (tls.cert) out.push({ field: '/broker/tls/cert', path: tls.cert, kind: 'certificate' });
  if (tls.key) out.push({ field: '/broker/tls/key', path: tls.key, kind: 'key' });
  return out;
}

function httpsFiles(https: GatewayHttpsConfig): PemFile[] {
  const out: PemFile[] = [
    { field: '/gateway/https/cert', path: https.cert, kind: 'certificate' },
    { field: '/gateway/https/key', path: https.key, kind: 'key' },
  ];
  if (https.ca) out.push({ field: '/gateway/https/ca', path: https.ca, kind: 'certificate' });
  return out;
}

function readChecked(files: PemFile[]): Partial<Record<'ca' | 'cert' | 'key', Buffer>> {
  const { pem, issues } = check(files);
  if (issues.length > 0) throw tlsError(issues);
  return pem;
}

/**
 * Reads each file and checks it is what its field says: a PEM certificate (Node's TLS
 * takes PEM only, and silently ignores a CA file without one) or an unencrypted PEM
 * private key; then that the key belongs to the certificate next to it.
 */
function check(files: PemFile[]): {
  pem: Partial<Record<'ca' | 'cert' | 'key', Buffer>>;
  issues: ConfigIssue[];
} {
  const pem: Partial<Record<'ca' | 'cert' | 'key', Buffer>> = {};
  const issues: ConfigIssue[] = [];
  let cert: { x509: X509Certificate; file: PemFile } | undefined;
  let key: { key: KeyObject; file: PemFile } | undefined;
  for (const f of files) {
    const name = f.field.slice(f.field.lastIndexOf('/') + 1) as 'ca' | 'cert' | 'key';
    let buf: Buffer;
    try {
      buf = readFileSync(f.path);
    } catch (cause) {
      const code = (cause as { code?: unknown }).code;
      issues.push({
        path: f.field,
        message: `cannot read ${f.path}${typeof code === 'string' ? ` (${code})` : ''}`,
      });
      continue;
    }
    const text = buf.toString('latin1');
    try {
      if (f.kind === 'certificate') {
        if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM block');
        const x509 = new X509Certificate(buf);
        if (name === 'cert') cert = { x509, file: f };
      } else {
        if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) throw new Error('no PEM block');
        key = { key: createPrivateKey(buf), file: f };
      }
    } catch {
      issues.push({
        path: f.field,
        message:
          f.kind === 'certificate'
            ? `${f.path} is not a PEM certificate`
            : `${f.path} is not an unencrypted PEM private key`,
      });
      continue;
    }
    pem[name] = buf;
  }
  if (cert && key && !cert.x509.checkPrivateKey(key.key)) {
    issues.push({
      path: key.file.field,
      message: `${key.file.path} is not the private key of ${cert.file.path}`,
    });
  }
  return { pem, issues };
}

function tlsError(issues: ConfigIssue[]): RuntimeError {
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  return new RuntimeError('CONFIG_TLS_FILE', `TLS files of the fleet are not usable:\n${lines}`, {
    issues,
  });
}
