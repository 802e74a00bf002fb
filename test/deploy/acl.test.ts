/**
 * The Mosquitto ACL that `servofleet acl` generates, on a real Mosquitto 2 with
 * password authentication: each service publishes only its own topics, dashboards
 * only read, and an unauthorised publish never reaches a subscriber. And the demo's
 * device service runs under its own user with that ACL.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoAcl } from '../../services/cli/acl.ts';
import { startDeviceProcess } from '../../services/device/src/device-process.ts';
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

  const as = async (user: string) => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      username: user,
      password: `pw-${user}`,
      reconnectPeriod: 0,
    });
    clients.push(c);
    return c;
  };

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
