/**
 * `broker.tls` and `gateway.https` in the fleet file: schema and consistency errors,
 * environment overrides, paths taken from the fleet file's directory, and the files
 * themselves checked at load (CONFIG_TLS_FILE naming field and path). Certificates come
 * from scripts/gen-certs.sh in a temp directory.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeError } from '../errors.ts';
import { loadFleetFile, parseFleet } from './load-fleet.ts';
import { readBrokerTls, readGatewayHttps } from './tls-files.ts';

const ROOT = resolve(import.meta.dirname, '../../../..');
const PROFILES = join(ROOT, 'config/profiles');

/** A minimal fleet: `tls` is the broker's `tls:` value, `extra` more top-level YAML. */
const fleetText = (o: { url?: string; tls?: string; extra?: string } = {}) => `
profilesDir: ${PROFILES}
broker: { url: ${o.url ?? 'mqtts://127.0.0.1:8883'}, embedded: false${o.tls ? `, tls: ${o.tls}` : ''} }
links:
  - id: bus-a
    protocol: modbus-rtu
    transport: tcp://127.0.0.1:4001
    drives:
      - { id: axis-1, unit: 1, profile: sf-servo }
${o.extra ?? ''}`;

function failure(fn: () => unknown): { code: string; issues: string[]; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof RuntimeError) {
      return {
        code: err.code,
        issues: err.issues.map((i) => `${i.path}: ${i.message}`),
        message: err.message,
      };
    }
    throw err;
  }
  throw new Error('expected a RuntimeError');
}

describe('TLS in the fleet file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-tls-config-'));
    execFileSync(join(ROOT, 'scripts/gen-certs.sh'), [join(dir, 'certs')], { stdio: 'pipe' });
    writeFileSync(join(dir, 'not-pem.crt'), 'hello\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let n = 0;
  const load = (o: Parameters<typeof fleetText>[0], env = {}) => {
    const path = join(dir, `fleet-${++n}.yaml`);
    writeFileSync(path, fleetText(o));
    return loadFleetFile(path, env);
  };

  it('has no TLS unless asked for', () => {
    const fleet = parseFleet(fleetText());
    expect(fleet.broker.tls).toBeUndefined();
    expect(fleet.gateway.https).toBeUndefined();
    expect(readBrokerTls(fleet.broker.tls)).toBeUndefined();
    expect(readGatewayHttps(fleet.gateway.https)).toBeUndefined();
  });

  it('takes relative paths from the fleet file’s directory and reads them as PEM', () => {
    const { fleet } = load({
      tls: '{ ca: certs/ca.crt, cert: certs/client.crt, key: certs/client.key }',
      extra: 'gateway: { https: { cert: certs/server.crt, key: certs/server.key } }',
    });
    expect(fleet.broker.tls).toEqual({
      ca: join(dir, 'certs/ca.crt'),
      cert: join(dir, 'certs/client.crt'),
      key: join(dir, 'certs/client.key'),
      rejectUnauthorized: true,
    });
    expect(fleet.gateway.https).toEqual({
      cert: join(dir, 'certs/server.crt'),
      key: join(dir, 'certs/server.key'),
    });
    const tls = readBrokerTls(fleet.broker.tls)!;
    expect(tls.ca?.toString()).toContain('-----BEGIN CERTIFICATE-----');
    expect(tls.key?.toString()).toContain('PRIVATE KEY-----');
    expect(tls.rejectUnauthorized).toBe(true);
    expect(Object.keys(readGatewayHttps(fleet.gateway.https)!)).toEqual(['cert', 'key']);
  });

  it('refuses TLS settings on a plain mqtt:// broker, half a client certificate, unknown keys', () => {
    const plain = failure(() =>
      parseFleet(fleetText({ url: 'mqtt://user:pw@127.0.0.1:1883', tls: '{ ca: ca.crt }' })),
    );
    expect(plain.code).toBe('CONFIG_INVALID');
    expect(plain.issues).toEqual([
      '/broker/tls: TLS settings (broker.tls or SERVOFLEET_MQTT_CA/_CERT/_KEY) need an mqtts:// or wss:// broker url, not mqtt://127.0.0.1:1883',
    ]);
    const half = failure(() => parseFleet(fleetText({ tls: '{ cert: c.crt }' })));
    expect(half.issues).toEqual([
      '/broker/tls/key: a client certificate needs its key, and a key its certificate',
    ]);
    const typo = failure(() => parseFleet(fleetText({ tls: '{ cafile: ca.crt }' })));
    expect([typo.code, typo.issues.map((i) => i.split(':')[0])]).toEqual([
      'CONFIG_INVALID',
      ['/broker/tls/cafile'],
    ]);
    const noKey = failure(() =>
      parseFleet(fleetText({ extra: 'gateway: { https: { cert: s.crt } }' })),
    );
    expect(noKey.issues.map((i) => i.split(':')[0])).toEqual(['/gateway/https/key']);
  });

  it('takes SERVOFLEET_MQTT_CA/_CERT/_KEY and SERVOFLEET_HTTPS_CERT/_KEY, relative to the working directory', () => {
    const fleet = parseFleet(fleetText({ url: 'mqtt://127.0.0.1:1883' }), 'f', {
      SERVOFLEET_MQTT_URL: 'mqtts://broker.example:8883',
      SERVOFLEET_MQTT_CA: 'config/certs/ca.crt',
      SERVOFLEET_HTTPS_CERT: '/etc/sf/server.crt',
      SERVOFLEET_HTTPS_KEY: '/etc/sf/server.key',
    });
    expect(fleet.broker.tls).toEqual({
      ca: resolve('config/certs/ca.crt'),
      rejectUnauthorized: true,
    });
    expect(fleet.gateway.https).toEqual({ cert: '/etc/sf/server.crt', key: '/etc/sf/server.key' });
    const lone = failure(() =>
      parseFleet(fleetText(), 'f', { SERVOFLEET_HTTPS_CERT: '/etc/sf/server.crt' }),
    );
    expect([lone.code, lone.message]).toEqual([
      'CONFIG_ENV_INVALID',
      'SERVOFLEET_HTTPS_CERT needs SERVOFLEET_HTTPS_KEY (or gateway.https in the fleet file)',
    ]);
    // An environment path wins over the file's and is not taken from the file's directory.
    copyFileSync(join(dir, 'certs/ca.crt'), join(dir, 'env-ca.crt'));
    const loaded = load(
      { tls: '{ ca: certs/ca.crt }' },
      { SERVOFLEET_MQTT_CA: join(dir, 'env-ca.crt') },
    ).fleet;
    expect(loaded.broker.tls?.ca).toBe(join(dir, 'env-ca.crt'));
  });

  it('names each unusable file: missing, not PEM, a key that is not the certificate’s', () => {
    const r = failure(() =>
      load({
        tls: '{ ca: certs/nope.crt }',
        extra:
          'gateway: { https: { cert: certs/server.crt, key: certs/client.key, ca: not-pem.crt } }',
      }),
    );
    expect(r.code).toBe('CONFIG_TLS_FILE');
    expect(r.issues).toEqual([
      `/broker/tls/ca: cannot read ${join(dir, 'certs/nope.crt')} (ENOENT)`,
      `/gateway/https/ca: ${join(dir, 'not-pem.crt')} is not a PEM certificate`,
      `/gateway/https/key: ${join(dir, 'certs/client.key')} is not the private key of ${join(dir, 'certs/server.crt')}`,
    ]);
    expect(r.message).toContain(`cannot read ${join(dir, 'certs/nope.crt')}`);
    const keyAsCert = failure(() =>
      readGatewayHttps({ cert: join(dir, 'certs/server.key'), key: join(dir, 'certs/server.crt') }),
    );
    expect(keyAsCert.issues).toEqual([
      `/gateway/https/cert: ${join(dir, 'certs/server.key')} is not a PEM certificate`,
      `/gateway/https/key: ${join(dir, 'certs/server.crt')} is not an unencrypted PEM private key`,
    ]);
  });
});
