/**
 * The Mosquitto ACL that `servofleet acl` generates, on a real Mosquitto 2 with
 * password authentication: each service publishes only its own topics, dashboards
 * only read, and an unauthorised publish never reaches a subscriber. Gateway and
 * journal instances, whose MQTT client id is their service id, publish their own
 * availability (and last will) and no other service's. And the demo's device service,
 * a gateway and a journal replica run under their own users with that ACL.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoAcl } from '../../services/cli/acl.ts';
import { startDeviceProcess } from '../../services/device/src/device-process.ts';
import { type RunningGateway, startGateway } from '../../services/gateway/src/index.ts';
import { type RunningJournal, startJournal } from '../../services/journal/src/index.ts';
import { loadFleetFile, parseFleet, waitForTcpPort } from '../../services/runtime/src/index.ts';
import { eventually, freePort, MOSQUITTO } from '../../services/runtime/test/helpers.ts';
import { fleetYaml, PROFILES, silent, simFor } from '../device/harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const USERS = ['device-bus-a', 'device-bus-b', 'gateway', 'line', 'journal', 'dashboard'];

describe('Mosquitto ACL, one user per service', () => {
  let broker: ChildProcess;
  let port: number;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    if (!MOSQUITTO) throw new Error('mosquitto is not installed');
    port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'sf-acl-'));
    const passwd = join(dir, 'passwd');
    writeFileSync(passwd, '');
    for (const u of USERS) execFileSync('mosquitto_passwd', ['-b', passwd, u, `pw-${u}`]);
    writeFileSync(join(dir, 'acl'), readFileSync(join(ROOT, 'config/mosquitto/acl')));
    writeFileSync(
      join(dir, 'mosquitto.conf'),
      `per_listener_settings false\nlistener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${passwd}\nacl_file ${join(dir, 'acl')}\npersistence false\n`,
    );
    // Mosquitto started as root drops to its own user: it must be able to read these.
    chmodSync(dir, 0o755);
    for (const f of ['passwd', 'acl', 'mosquitto.conf']) chmodSync(join(dir, f), 0o644);
    broker = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
    await waitForTcpPort({ host: '127.0.0.1', port, timeoutMs: 5000 });
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    broker?.kill('SIGKILL');
  });

  const as = async (user: string, clientId?: string, extra: IClientOptions = {}) => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      username: user,
      password: `pw-${user}`,
      reconnectPeriod: 0,
      ...(clientId ? { clientId } : {}),
      ...extra,
    });
    clients.push(c);
    return c;
  };

  /**
   * `publisher` publishes to each of `attempts`, then `markerFrom` (default: the same
   * client) to `own`, which must be allowed; returns which of them a dashboard subscribed
   * to every service's availability received. Each attempt is acknowledged (QoS 1) after
   * the broker routed or refused it, so once `own` is there, the others would be too.
   */
  let probes = 0;
  async function availabilityDelivered(
    publisher: MqttClient,
    attempts: string[],
    own: string,
    markerFrom = publisher,
  ) {
    const dash = await as('dashboard');
    const tag = `probe-${++probes}`;
    const got: string[] = [];
    dash.on('message', (t, p) => {
      if (p.toString() === tag) got.push(t);
    });
    await dash.subscribeAsync('servofleet/services/+/availability', { qos: 1 });
    for (const t of attempts) await publisher.publishAsync(t, tag, { qos: 1 }).catch(() => {});
    await markerFrom.publishAsync(own, tag, { qos: 1 });
    await eventually(() => got.includes(own), `${own} at the dashboard`);
    return got;
  }

  /** Publishes `forbidden` then an allowed marker; returns whether the forbidden one arrived (order is kept per publisher). */
  async function reaches(
    publisher: MqttClient,
    forbidden: string,
    marker: string,
    listener: MqttClient,
    filter: string,
  ) {
    const got: string[] = [];
    listener.on('message', (t) => got.push(t));
    await listener.subscribeAsync(filter, { qos: 1 });
    await publisher.publishAsync(forbidden, '{"x":1}', { qos: 1 }).catch(() => {});
    await publisher.publishAsync(marker, '{"x":2}', { qos: 1 });
    await eventually(() => got.includes(marker), `marker ${marker}`);
    return got.includes(forbidden);
  }

  it('the committed ACL is what `servofleet acl` generates for the demo fleet', () => {
    const { fleet } = loadFleetFile(join(ROOT, 'config/demo-fleet.yaml'));
    expect(readFileSync(join(ROOT, 'config/mosquitto/acl'), 'utf8').trim()).toBe(
      mosquittoAcl(fleet).trim(),
    );
  });

  it('refuses anonymous clients', async () => {
    await expect(
      mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 3000 }),
    ).rejects.toThrow();
  });

  it('a device service publishes its own drives, not another link’s', async () => {
    const dev = await as('device-bus-a');
    const dash = await as('dashboard');
    expect(
      await reaches(
        dev,
        'servofleet/drives/dxl-1/state',
        'servofleet/drives/axis-1/state',
        dash,
        'servofleet/#',
      ),
    ).toBe(false);
  });

  it('a dashboard cannot command a drive; the gateway can', async () => {
    const dash = await as('dashboard');
    const gw = await as('gateway');
    const dev = await as('device-bus-a');
    const got: string[] = [];
    dev.on('message', (_t, p) => got.push(p.toString()));
    await dev.subscribeAsync('servofleet/drives/axis-1/commands', { qos: 1 });
    await dash
      .publishAsync('servofleet/drives/axis-1/commands', 'from-dashboard', { qos: 1 })
      .catch(() => {});
    await gw.publishAsync('servofleet/drives/axis-1/commands', 'from-gateway', { qos: 1 });
    await eventually(() => got.includes('from-gateway'), 'the gateway command');
    expect(got).toEqual(['from-gateway']);
  });

  it('nobody but the line controller publishes line state', async () => {
    const gw = await as('gateway');
    const line = await as('line');
    const dash = await as('dashboard');
    const got: string[] = [];
    dash.on('message', (t, p) => t === 'servofleet/lines/line-1/state' && got.push(p.toString()));
    await dash.subscribeAsync('servofleet/lines/+/state', { qos: 1 });
    await gw
      .publishAsync('servofleet/lines/line-1/state', 'from-gateway', { qos: 1 })
      .catch(() => {});
    await line.publishAsync('servofleet/lines/line-1/state', 'from-line', { qos: 1 });
    await eventually(() => got.includes('from-line'), 'line state');
    expect(got).toEqual(['from-line']);
  });

  it('a gateway instance publishes its own availability, not another service’s', async () => {
    const gw = await as('gateway', 'gateway-gw-a');
    const got = await availabilityDelivered(
      gw,
      [
        'servofleet/services/gateway-gw-b/availability',
        'servofleet/services/line-line-1/availability',
        'servofleet/services/device-bus-a/availability',
        'servofleet/services/journal/availability',
        'servofleet/services/journal-a/availability',
        'servofleet/services/gateway/availability',
      ],
      'servofleet/services/gateway-gw-a/availability',
    );
    expect(got).toEqual(['servofleet/services/gateway-gw-a/availability']);
  });

  it('a journal instance publishes its own availability, not another service’s; the single journal its fixed one', async () => {
    const j = await as('journal', 'journal-a');
    const got = await availabilityDelivered(
      j,
      [
        'servofleet/services/journal-b/availability',
        'servofleet/services/gateway-gw-a/availability',
        'servofleet/services/line-line-1/availability',
        'servofleet/services/device-bus-b/availability',
      ],
      'servofleet/services/journal-a/availability',
    );
    expect(got).toEqual(['servofleet/services/journal-a/availability']);
    // Without an instance the journal connects as sf-journal-<hash of its database path>.
    const single = await as('journal', 'sf-journal-0123456789ab');
    expect(
      await availabilityDelivered(
        single,
        ['servofleet/services/journal-a/availability'],
        'servofleet/services/journal/availability',
      ),
    ).toEqual(['servofleet/services/journal/availability']);
  });

  it('the other users publish no gateway’s or journal’s availability; line and devices their own', async () => {
    const attempts = [
      'servofleet/services/gateway-gw-a/availability',
      'servofleet/services/journal-a/availability',
      'servofleet/services/journal/availability',
    ];
    for (const [user, own] of [
      ['line', 'servofleet/services/line-line-1/availability'],
      ['device-bus-a', 'servofleet/services/device-bus-a/availability'],
    ] as const) {
      const c = await as(user, `sf-${user}`);
      expect(await availabilityDelivered(c, attempts, own), user).toEqual([own]);
    }
    // The dashboard has no availability of its own: a gateway instance's is the marker.
    const dash = await as('dashboard', 'sf-acl-dashboard');
    const gw = await as('gateway', 'gateway-gw-m');
    const marker = 'servofleet/services/gateway-gw-m/availability';
    expect(await availabilityDelivered(dash, attempts, marker, gw)).toEqual([marker]);
  });

  it('taking a running instance’s client id disconnects it, and its last will says so', async () => {
    const topic = 'servofleet/services/gateway-gw-t/availability';
    const dash = await as('dashboard');
    const seen: string[] = [];
    dash.on('message', (t, p) => t === topic && seen.push(p.toString()));
    await dash.subscribeAsync(topic, { qos: 1 });
    const gw = await as('gateway', 'gateway-gw-t', {
      will: { topic, payload: Buffer.from('offline: last will'), qos: 1, retain: false },
    });
    let closed = false;
    gw.on('close', () => {
      closed = true;
    });
    await as('line', 'gateway-gw-t');
    await eventually(() => closed, 'gateway-gw-t disconnected by the broker');
    await eventually(() => seen.includes('offline: last will'), 'its last will');
  });

  it('a gateway and a journal replica, as they run, say online and leave their last will under their users', async () => {
    const dbDir = mkdtempSync(join(tmpdir(), 'sf-acl-journal-'));
    const yaml = fleetYaml(`mqtt://127.0.0.1:${port}`);
    const user = (u: string) => ({
      SERVOFLEET_MQTT_USERNAME: u,
      SERVOFLEET_MQTT_PASSWORD: `pw-${u}`,
    });
    const dash = await as('dashboard');
    const seen: { topic: string; status: string; reason?: string }[] = [];
    dash.on('message', (topic, p) => {
      const m = JSON.parse(p.toString()) as { status?: string; reason?: string };
      if (typeof m.status === 'string') seen.push({ topic, status: m.status, reason: m.reason });
    });
    await dash.subscribeAsync('servofleet/services/+/availability', { qos: 1 });
    let gw: RunningGateway | undefined;
    let journal: RunningJournal | undefined;
    const gwTopic = 'servofleet/services/gateway-acl-1/availability';
    const jTopic = 'servofleet/services/journal-acl/availability';
    const has = (topic: string, status: string, reason?: string) =>
      seen.some(
        (m) => m.topic === topic && m.status === status && (!reason || m.reason === reason),
      );
    try {
      gw = await startGateway({
        fleet: parseFleet(yaml, 'fleet', user('gateway')),
        log: silent,
        port: 0,
        instanceId: 'acl-1',
      });
      journal = await startJournal({
        fleet: parseFleet(yaml, 'fleet', {
          ...user('journal'),
          SERVOFLEET_JOURNAL_INSTANCE: 'acl',
        }),
        dbPath: join(dbDir, 'journal.db'),
        log: silent,
        port: 0,
      });
      await eventually(
        () => has(gwTopic, 'online') && has(jTopic, 'online'),
        'both online',
        15_000,
      );
      // The network connection drops without a DISCONNECT: the broker publishes the will.
      gw.mqtt.client.stream.destroy();
      journal.mqtt.client.stream.destroy();
      await eventually(
        () => has(gwTopic, 'offline', 'last will') && has(jTopic, 'offline', 'last will'),
        'both last wills',
        15_000,
      );
    } finally {
      await gw?.close();
      await journal?.close();
      rmSync(dbDir, { recursive: true, force: true });
    }
  });

  it('the device service runs under its own user with this ACL', async () => {
    const yaml = fleetYaml(`mqtt://127.0.0.1:${port}`);
    const fleet = parseFleet(yaml, 'fleet', {
      SERVOFLEET_MQTT_USERNAME: 'device-bus-a',
      SERVOFLEET_MQTT_PASSWORD: 'pw-device-bus-a',
    });
    const sim = simFor(fleet);
    await sim.start();
    const dev = await startDeviceProcess({
      fleet,
      linkId: 'bus-a',
      profiles: PROFILES,
      log: silent,
      link: async () => sim.connect('bus-a'),
      adminPort: 0,
      latencyMs: 25,
    });
    try {
      const dash = await as('dashboard');
      const seen = new Set<string>();
      dash.on('message', (t, p) => {
        if (t.endsWith('/availability') && JSON.parse(p.toString()).status === 'online')
          seen.add(t);
      });
      await dash.subscribeAsync('servofleet/drives/+/availability', { qos: 1 });
      await eventually(() => seen.size === 4, 'the four drives of bus-a online', 15_000);
      expect([...seen].sort()).toEqual(
        ['axis-1', 'axis-2', 'axis-3', 'axis-4'].map((d) => `servofleet/drives/${d}/availability`),
      );
    } finally {
      await dev.stop();
      await sim.close();
    }
  });
});
