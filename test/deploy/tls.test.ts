/**
 * TLS as the README's "TLS" section shows it: scripts/gen-certs.sh makes a private CA
 * and certificates; Mosquitto 2 serves the TLS listener of
 * config/mosquitto/mosquitto-tls.conf (once as it is, once with its
 * `require_certificate` line switched on); the gateway, the line controller and the
 * journal connect over mqtts:// with the CA the fleet file names, and the gateway
 * serves HTTPS. A client without the CA, or without a client certificate where one is
 * required, is refused and does not take that for a broker without MQTT 5; plain HTTP
 * to the gateway gets nowhere. The device services of the rig's links run against the
 * simulator and publish over mqtts:// too. Everything binds 127.0.0.1; every wait is
 * bounded.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { main } from '../../services/cli/main.ts';
import { describeFleet } from '../../services/cli/up.ts';
import { startDeviceProcess } from '../../services/device/src/device-process.ts';
import { sha256Hex } from '../../services/gateway/src/auth/api-keys.ts';
import { type RunningGateway, startGateway } from '../../services/gateway/src/index.ts';
import { type RunningJournal, startJournal } from '../../services/journal/src/journal.ts';
import { type LineProcess, startLineProcess } from '../../services/line/src/index.ts';
import {
  connectMqtt,
  type Fleet,
  loadFleetFile,
  type MqttConnection,
  RuntimeError,
  waitForTcpPort,
} from '../../services/runtime/src/index.ts';
import {
  eventually,
  freePort,
  type MemoryLogger,
  type MosquittoProcess,
  memoryLogger,
  startMosquitto,
} from '../../services/runtime/test/helpers.ts';
import { PROFILES, silent, simFor, Watcher } from '../device/harness.ts';
import { demoLine, lineFleetYaml } from '../line/harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const GEN_CERTS = join(ROOT, 'scripts/gen-certs.sh');
const VIEWER_KEY = 'tls-viewer-key-1c2d';
const run = promisify(execFile);

/** The TLS listener of the example Mosquitto config, from `listener 8883` to the auth lines. */
function exampleListener(): string {
  const conf = readFileSync(join(ROOT, 'config/mosquitto/mosquitto-tls.conf'), 'utf8');
  const from = conf.indexOf('listener 8883\n');
  const to = conf.indexOf('allow_anonymous');
  expect([from, to].every((i) => i >= 0) && from < to).toBe(true);
  return conf.slice(from, to);
}

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

function httpsGet(url: string, o: { ca?: Buffer; key?: string } = {}): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = https.get(
      url,
      {
        ...(o.ca ? { ca: o.ca } : {}),
        ...(o.key ? { headers: { authorization: `Bearer ${o.key}` } } : {}),
        timeout: 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          done({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
  });
}

/** MQTT errors a `connectMqtt` session logged, and whether it ever fell back to 3.1.1. */
function mqttErrors(mem: MemoryLogger): { codes: unknown[]; fellBack: boolean } {
  const lines = mem.lines();
  return {
    codes: lines
      .filter((l) => l.msg === 'MQTT connection error; will retry' || l.msg === 'MQTT error')
      .map((l) => l.code),
    fellBack: lines.some((l) => String(l.msg).includes('using MQTT 3.1.1')),
  };
}

describe('TLS: Mosquitto on mqtts://, the gateway on https://', { timeout: 60_000 }, () => {
  let dir: string;
  let certs: string;
  let ca: Buffer;
  let broker: MosquittoProcess;
  let tlsPort: number;
  let mtlsPort: number;
  let fleetPath: string;
  let fleet: Fleet;
  let gw: RunningGateway | undefined;
  let journal: RunningJournal | undefined;
  let line: LineProcess | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  const gwLog = memoryLogger('info');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sf-tls-'));
    certs = join(dir, 'certs');
    execFileSync(GEN_CERTS, [certs], { stdio: 'pipe' });
    ca = readFileSync(join(certs, 'ca.crt'));

    // Mosquitto started as root reads the certificates as its own user: copies it may read.
    const forBroker = join(dir, 'mosquitto');
    mkdirSync(forBroker);
    for (const f of ['ca.crt', 'server.crt', 'server.key']) {
      copyFileSync(join(certs, f), join(forBroker, f));
      chmodSync(join(forBroker, f), 0o644);
    }
    chmodSync(dir, 0o755);
    chmodSync(forBroker, 0o755);
    tlsPort = await freePort();
    mtlsPort = await freePort();
    const listener = (port: number, mutual: boolean) =>
      exampleListener()
        .replace('listener 8883', `listener ${port} 127.0.0.1`)
        .replaceAll('/mosquitto/config/certs', forBroker)
        .replace('#require_certificate true', mutual ? 'require_certificate true' : '');
    broker = await startMosquitto({
      extraConfig: listener(tlsPort, false) + listener(mtlsPort, true),
    });
    for (const port of [tlsPort, mtlsPort]) {
      await waitForTcpPort({ host: '127.0.0.1', port, timeoutMs: 5000, intervalMs: 25 });
    }

    // The test rig's fleet with line-1, its paths to the certificates relative to itself.
    const raw = parseYaml(lineFleetYaml(`mqtts://127.0.0.1:${tlsPort}`, demoLine())) as Record<
      string,
      // biome-ignore lint/suspicious/noExplicitAny: a YAML document under edit
      any
    >;
    raw.broker.tls = { ca: 'certs/ca.crt' };
    raw.lines[0].sagaLog = 'saga.jsonl';
    raw.gateway = {
      host: '127.0.0.1',
      port: 0,
      apiKeys: [{ name: 'viewer-key', role: 'viewer', sha256: sha256Hex(VIEWER_KEY) }],
      https: { cert: 'certs/server.crt', key: 'certs/server.key', ca: 'certs/ca.crt' },
    };
    raw.journal = { host: '127.0.0.1', port: 0, path: 'journal.db' };
    fleetPath = join(dir, 'fleet.yaml');
    writeFileSync(fleetPath, stringify(raw));
    fleet = loadFleetFile(fleetPath).fleet;

    gw = await startGateway({ fleet, log: gwLog.log, port: 0 });
    journal = await startJournal({ fleet, dbPath: join(dir, 'journal.db'), log: silent, port: 0 });
    line = await startLineProcess({
      fleet,
      lineId: 'line-1',
      fleetPath,
      log: silent,
      adminPort: 0,
      settleMs: 0,
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    await line?.stop();
    await journal?.close();
    await gw?.close();
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('gen-certs.sh: a CA, a server certificate for localhost and 127.0.0.1, a client certificate; keys 0600; a second run keeps them', async () => {
    const server = new X509Certificate(readFileSync(join(certs, 'server.crt')));
    const client = new X509Certificate(readFileSync(join(certs, 'client.crt')));
    const caCert = new X509Certificate(ca);
    expect(caCert.ca).toBe(true);
    expect(server.verify(caCert.publicKey) && client.verify(caCert.publicKey)).toBe(true);
    expect([server.checkHost('localhost'), server.checkIP('127.0.0.1')]).toEqual([
      'localhost',
      '127.0.0.1',
    ]);
    for (const k of ['ca.key', 'server.key', 'client.key']) {
      expect([k, statSync(join(certs, k)).mode & 0o777]).toEqual([k, 0o600]);
    }
    const before = ['ca.crt', 'server.crt', 'server.key'].map((f) => readFileSync(join(certs, f)));
    const again = await run(GEN_CERTS, [certs]);
    expect(again.stdout.trim().split('\n')).toEqual(
      ['ca', 'server', 'client'].map((n) => `gen-certs.sh: kept ${certs}/${n}.crt`),
    );
    expect(
      ['ca.crt', 'server.crt', 'server.key'].map((f, i) =>
        readFileSync(join(certs, f)).equals(before[i]!),
      ),
    ).toEqual([true, true, true]);
  });

  it('the loader takes the certificate paths from the fleet file’s directory; validate shows them', async () => {
    expect(fleet.broker.tls).toEqual({ ca: join(certs, 'ca.crt'), rejectUnauthorized: true });
    expect(fleet.gateway.https).toEqual({
      cert: join(certs, 'server.crt'),
      key: join(certs, 'server.key'),
      ca: join(certs, 'ca.crt'),
    });
    const out: string[] = [];
    const io = {
      out: (l: string) => out.push(l),
      err: (l: string) => out.push(l),
      env: {},
      cwd: dir,
    };
    expect(await main(['validate', '--config', fleetPath], io)).toBe(0);
    expect(out).toContain(`  TLS        CA ${join(certs, 'ca.crt')}`);
    expect(out.find((l) => l.startsWith('gateway '))).toMatch(
      /^gateway +https:\/\/127\.0\.0\.1:0 /,
    );
  });

  it('gateway, line controller and journal connect over mqtts:// (MQTT 5); drive state reaches HTTPS', async () => {
    const services = new Watcher(
      await mqtt.connectAsync(fleet.broker.url, { ca, reconnectPeriod: 0, connectTimeout: 5000 }),
    );
    closers.push(() => services.close());
    await services.client.subscribeAsync('servofleet/services/+/availability', { qos: 1 });
    expect(gw!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(gwLog.lines().map((l) => l.msg)).toContainEqual(
      expect.stringMatching(/^gateway on https:\/\/127\.0\.0\.1:\d+: dashboard https:/),
    );
    for (const id of [/^gateway-/, /^journal$/, /^line-line-1$/]) {
      await services.next(
        (m) =>
          id.test(m.topic.split('/')[2] ?? '') &&
          m.topic.endsWith('/availability') &&
          m.json.status === 'online',
        `${id} online`,
        15_000,
      );
    }
    expect([gw!.mqtt.protocolVersion, journal!.mqtt.protocolVersion]).toEqual([5, 5]);

    // The real device services of the rig's links, over mqtts:// with the same CA.
    const sim = simFor(fleet);
    await sim.start();
    closers.push(() => sim.close());
    for (const link of fleet.links) {
      const dev = await startDeviceProcess({
        fleet,
        linkId: link.id,
        profiles: PROFILES,
        log: silent,
        link: async () => sim.connect(link.id),
        adminPort: 0,
        latencyMs: 25,
      });
      closers.push(() => dev.stop());
    }
    sim.drive('axis-1').write('controlword', 0x06); // READY_TO_SWITCH_ON, seen over TLS
    const drive = await eventually(
      async () => {
        const a = await httpsGet(`${gw!.url}/api/v1/drives/axis-1`, { ca, key: VIEWER_KEY });
        const state = a.json.state as { cia402?: string } | null;
        return a.status === 200 && state?.cia402 === 'READY_TO_SWITCH_ON' && a.json;
      },
      'axis-1 state over HTTPS',
      15_000,
      50,
    );
    expect(drive).toMatchObject({ id: 'axis-1', availability: { status: 'online' } });
  });

  it('the gateway speaks HTTPS only: curl --cacert gets /healthz; plain HTTP and a client without the CA do not', async () => {
    const url = gw!.url;
    expect((await httpsGet(`${url}/healthz`, { ca })).status).toBe(200);
    const curl = await run('curl', ['-sS', '--cacert', join(certs, 'ca.crt'), `${url}/healthz`]);
    expect(JSON.parse(curl.stdout)).toMatchObject({ status: 'ok' });

    await expect(httpsGet(`${url}/healthz`)).rejects.toMatchObject({
      code: expect.stringMatching(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED/),
    });
    const plain = new Promise<number>((done, fail) => {
      const req = http.get(`${url.replace('https:', 'http:')}/healthz`, { timeout: 5000 }, (res) =>
        done(res.statusCode ?? 0),
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', fail);
    });
    await expect(plain).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('up prints https:// URLs with curl --cacert, and mosquitto_sub with --cafile', () => {
    const lines = describeFleet({ ...fleet, gateway: { ...fleet.gateway, port: 8443 } }, fleetPath);
    const cacert = join(certs, 'ca.crt');
    expect(lines).toContain(
      '  gateway    dashboard https://127.0.0.1:8443/  API https://127.0.0.1:8443/api/v1  docs https://127.0.0.1:8443/docs',
    );
    expect(lines).toContain(`  curl --cacert ${cacert} https://127.0.0.1:8443/healthz`);
    expect(lines).toContain(
      `  mosquitto_sub -h 127.0.0.1 -p ${tlsPort} --cafile ${cacert} -t 'servofleet/#' -v`,
    );
  });

  it('mosquitto_sub --cafile watches the fleet over TLS', async () => {
    const c = await mqtt.connectAsync(fleet.broker.url, {
      ca,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    closers.push(() => c.endAsync(true));
    await c.publishAsync(
      'servofleet/services/tls-probe/availability',
      JSON.stringify({ status: 'online', ts: Date.now() }),
      { qos: 1, retain: true },
    );
    const sub = await run('mosquitto_sub', [
      ...['-h', '127.0.0.1', '-p', String(tlsPort), '--cafile', join(certs, 'ca.crt')],
      ...['-t', 'servofleet/#', '-v', '-C', '1', '-W', '10'],
    ]);
    expect(sub.stdout).toMatch(/^servofleet\/\S+ \{"status":"online"/);
  });

  it('`servofleet gateway` takes TLS from SERVOFLEET_MQTT_URL/_CA and SERVOFLEET_HTTPS_CERT/_KEY', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' };
    for (const k of Object.keys(env)) if (k.startsWith('SERVOFLEET_')) delete env[k];
    const child = spawn(process.execPath, [join(ROOT, 'bin/servofleet.js'), 'gateway'], {
      cwd: ROOT, // the demo fleet, config/demo-fleet.yaml
      env: {
        ...env,
        SERVOFLEET_MQTT_URL: `mqtts://127.0.0.1:${tlsPort}`,
        SERVOFLEET_MQTT_CA: join(certs, 'ca.crt'),
        SERVOFLEET_HTTPS_CERT: join(certs, 'server.crt'),
        SERVOFLEET_HTTPS_KEY: join(certs, 'server.key'),
        SERVOFLEET_HTTP_PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    closers.push(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString('utf8');
    });
    const url = `https://127.0.0.1:${port}`;
    await eventually(
      () => output.includes(`"gateway on ${url}: dashboard ${url}/`) || child.exitCode !== null,
      'the gateway’s https:// startup line',
      30_000,
      50,
    );
    expect(child.exitCode, output).toBeNull();
    const curl = await run('curl', ['-sS', '--cacert', join(certs, 'ca.crt'), `${url}/healthz`]);
    expect(JSON.parse(curl.stdout)).toEqual({ status: 'ok' });
    const ready = await eventually(
      async () => {
        const r = await httpsGet(`${url}/readyz`, { ca });
        const details = r.json.details as { mqtt?: string };
        return details.mqtt === 'connected (MQTT 5)' && details;
      },
      'the gateway’s MQTT session over TLS',
      15_000,
      50,
    );
    expect(ready.mqtt).toBe('connected (MQTT 5)');
  });

  it('a client without the CA is refused, and does not take that for a broker without MQTT 5', async () => {
    const mem = memoryLogger();
    const conn: MqttConnection = connectMqtt({
      url: fleet.broker.url,
      clientId: 'sf-test-no-ca',
      log: mem.log,
      reconnect: { initialMs: 20, maxMs: 50 },
    });
    closers.push(() => conn.close());
    await eventually(() => mqttErrors(mem).codes.length >= 3, 'three refused attempts', 10_000);
    expect(conn.connected).toBe(false);
    const seen = mqttErrors(mem);
    expect(seen.fellBack).toBe(false);
    expect(seen.codes[0]).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED/);
    await conn.close();
  });

  it('mutual TLS (require_certificate): the client certificate gets in, the CA alone does not', async () => {
    const url = `mqtts://127.0.0.1:${mtlsPort}`;
    const cert = readFileSync(join(certs, 'client.crt'));
    const key = readFileSync(join(certs, 'client.key'));
    const withCert = connectMqtt({
      url,
      clientId: 'sf-test-mtls',
      log: silent,
      tls: { ca, cert, key },
    });
    closers.push(() => withCert.close());
    await withCert.waitConnected(10_000);
    expect(withCert.protocolVersion).toBe(5);
    await withCert.close();

    const sub = await run('mosquitto_sub', [
      ...['-h', '127.0.0.1', '-p', String(mtlsPort), '--cafile', join(certs, 'ca.crt')],
      ...['--cert', join(certs, 'client.crt'), '--key', join(certs, 'client.key')],
      ...['-t', '$SYS/broker/version', '-C', '1', '-W', '10'],
    ]);
    expect(sub.stdout).toMatch(/^mosquitto version 2\./);

    const mem = memoryLogger();
    const caOnly = connectMqtt({
      url,
      clientId: 'sf-test-mtls-no-cert',
      log: mem.log,
      tls: { ca },
      reconnect: { initialMs: 20, maxMs: 50 },
    });
    closers.push(() => caOnly.close());
    await eventually(() => mqttErrors(mem).codes.length >= 3, 'three refused attempts', 10_000);
    expect(caOnly.connected).toBe(false);
    const seen = mqttErrors(mem);
    expect(seen.fellBack).toBe(false);
    expect(seen.codes[0]).toMatch(/^ERR_SSL_/);
    await caOnly.close();
  });

  it('a certificate file that is not there is one CONFIG_TLS_FILE line naming it, before anything connects', async () => {
    const missing = join(dir, 'nope', 'server.key');
    const bad = readFileSync(fleetPath, 'utf8').replace('certs/server.key', missing);
    const badPath = join(dir, 'bad-fleet.yaml');
    writeFileSync(badPath, bad);

    const out: string[] = [];
    const err: string[] = [];
    const io = {
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
      env: {},
      cwd: dir,
    };
    expect(await main(['validate', '--config', badPath], io)).toBe(1);
    expect(err.join('\n')).toContain(`servofleet validate: CONFIG_TLS_FILE:`);
    expect(err.join('\n')).toContain(`/gateway/https/key: cannot read ${missing} (ENOENT)`);
    expect(err.join('\n')).not.toMatch(/\n\s+at /);

    const unchecked = {
      ...fleet,
      gateway: { ...fleet.gateway, https: { ...fleet.gateway.https!, key: missing } },
    };
    const started = startGateway({ fleet: unchecked, log: silent, port: 0 });
    await expect(started).rejects.toBeInstanceOf(RuntimeError);
    await expect(started).rejects.toMatchObject({ code: 'CONFIG_TLS_FILE' });
  });
});
