/**
 * What happens around the device service: the link drops and returns (TCP serial
 * bridge), the broker restarts, the process is killed with SIGKILL, the drive sits
 * behind a real PTY; and Mosquitto with MQTT 5 response topics.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../device-sim/src/index.ts';
import { startDeviceProcess } from '../../services/device/src/device-process.ts';
import { parseFleet } from '../../services/runtime/src/index.ts';
import {
  type Broker,
  eventually,
  fleetYaml,
  freePort,
  PROFILES,
  silent,
  simFor,
  startBroker,
  startRig,
  Watcher,
} from './harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('device service resilience', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  async function bus(
    brokerKind: 'aedes' | 'mosquitto',
    transport: (port: number, dir: string) => { busA: string; listen: string },
  ) {
    const broker = await startBroker(brokerKind);
    cleanups.push(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'sf-dev-'));
    const t = transport(await freePort(), dir);
    const fleet = parseFleet(fleetYaml(broker.url, { busA: t.busA }));
    const sim = simFor(fleet, { 'bus-a': t.listen });
    await sim.start();
    cleanups.push(() => sim.close());
    const dev = await startDeviceProcess({
      fleet,
      linkId: 'bus-a',
      profiles: PROFILES,
      log: silent,
      adminPort: 0,
      breaker: { failures: 3, probeInitialMs: 200, probeMaxMs: 1000 },
    });
    cleanups.push(() => dev.stop());
    const w = await Watcher.connect(
      broker.url,
      ['servofleet/#'],
      brokerKind === 'mosquitto' ? 5 : 4,
    );
    cleanups.push(() => w.close());
    return { broker, sim, dev, w, fleet, dir };
  }

  const online = (w: Watcher, id: string, from = 0) =>
    w.next(
      (m) => m.topic === `servofleet/drives/${id}/availability` && m.json.status === 'online',
      `${id} online`,
      10_000,
      from,
    );

  it('over a TCP serial bridge: a link drop makes drives unreachable, and they return by themselves', async () => {
    const { sim, w } = await bus('aedes', (port) => ({
      busA: `tcp://127.0.0.1:${port}`,
      listen: `tcp://127.0.0.1:${port}`,
    }));
    await online(w, 'axis-1');
    const from = w.messages.length;
    sim.inject({ link: 'bus-a', fault: 'disconnect', ms: 1000 });
    await w.next(
      (m) => m.topic === 'servofleet/drives/axis-1/availability' && m.json.status === 'unreachable',
      'axis-1 unreachable while the link is down',
      10_000,
      from,
    );
    await online(w, 'axis-1', from);
    await online(w, 'axis-4', from);
  });

  it('over a real PTY (socat), opened with serialport', async () => {
    const { w } = await bus('aedes', (_port, dir) => ({
      busA: `serial://${join(dir, 'ttyBUS')}?baud=115200`,
      listen: `pty://${join(dir, 'ttyBUS')}`,
    }));
    await online(w, 'axis-3');
    expect(await w.command('axis-3', { commandId: 'pty-en', type: 'enable' })).toMatchObject({
      status: 'completed',
    });
    const s = await w.next(
      (m) => m.topic === 'servofleet/drives/axis-3/state' && m.json.cia402 === 'OPERATION_ENABLED',
      'axis-3 enabled over the PTY',
    );
    expect(s.json.driveId).toBe('axis-3');
  });

  it('Mosquitto with MQTT 5: the reply goes to the response topic with the correlation data', async () => {
    const { broker, w } = await bus('mosquitto', (port) => ({
      busA: `tcp://127.0.0.1:${port}`,
      listen: `tcp://127.0.0.1:${port}`,
    }));
    await online(w, 'axis-1');
    await w.client.subscribeAsync('test/v5/replies', { qos: 1 });
    await w.publish(
      'servofleet/drives/axis-1/commands',
      { commandId: 'v5-1', type: 'enable' },
      {
        qos: 1,
        properties: { responseTopic: 'test/v5/replies', correlationData: Buffer.from('corr-42') },
      },
    );
    const reply = await w.next(
      (m) => m.topic === 'test/v5/replies' && m.json.status === 'completed',
      'v5 reply',
    );
    expect(reply.json.commandId).toBe('v5-1');
    expect(Buffer.from(reply.properties?.correlationData as Uint8Array).toString()).toBe('corr-42');
    expect(broker.kind).toBe('mosquitto');
  });

  it('after a broker restart it reconnects and republishes its retained topics', async () => {
    const { broker, w } = await bus('aedes', (port) => ({
      busA: `tcp://127.0.0.1:${port}`,
      listen: `tcp://127.0.0.1:${port}`,
    }));
    await online(w, 'axis-2');
    await broker.restart(); // aedes keeps retained messages in memory only: they are gone
    const late = await eventually(
      async () =>
        Watcher.connect(broker.url, [
          'servofleet/drives/+/meta',
          'servofleet/drives/+/state',
        ]).catch(() => undefined),
      'a subscriber connected to the restarted broker',
    );
    cleanups.push(() => late.close());
    for (const id of ['axis-1', 'axis-2', 'axis-3', 'axis-4']) {
      await late.next(
        (m) => m.topic === `servofleet/drives/${id}/meta`,
        `${id} meta again`,
        15_000,
      );
      await late.next(
        (m) => m.topic === `servofleet/drives/${id}/state`,
        `${id} state again`,
        15_000,
      );
    }
  });
});

describe('device service process', () => {
  let child: ReturnType<typeof spawn> | undefined;
  let broker: Broker | undefined;
  let sim: Simulator | undefined;
  afterEach(async () => {
    child?.kill('SIGKILL');
    await sim?.close();
    await broker?.stop();
  });

  it('kill -9: the last will marks every drive of the link offline', async () => {
    broker = await startBroker('aedes');
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'sf-kill-'));
    const yaml = fleetYaml(broker.url, { busA: `tcp://127.0.0.1:${port}` });
    const file = join(dir, 'fleet.yaml');
    writeFileSync(file, yaml);
    sim = simFor(parseFleet(yaml), { 'bus-a': `tcp://127.0.0.1:${port}` });
    await sim.start();
    const w = await Watcher.connect(broker.url, ['servofleet/#']);
    try {
      child = spawn(
        process.execPath,
        [join(ROOT, 'bin/servofleet.js'), 'device', '--link', 'bus-a', '--config', file],
        {
          stdio: 'ignore',
          env: { ...process.env, LOG_LEVEL: 'warn' },
        },
      );
      for (const id of ['axis-1', 'axis-2', 'axis-3', 'axis-4']) {
        await w.next(
          (m) => m.topic === `servofleet/drives/${id}/availability` && m.json.status === 'online',
          `${id} online`,
          20_000,
        );
      }
      const from = w.messages.length;
      child.kill('SIGKILL');
      for (const id of ['axis-1', 'axis-2', 'axis-3', 'axis-4']) {
        const m = await w.next(
          (m) => m.topic === `servofleet/drives/${id}/availability` && m.json.status === 'offline',
          `${id} offline by last will`,
          15_000,
          from,
        );
        expect(m.json.reason).toBe('last will');
      }
      const svc = await w.next(
        (m) =>
          m.topic === 'servofleet/services/device-bus-a/availability' &&
          m.json.status === 'offline',
        'service offline',
        15_000,
        from,
      );
      expect(svc.json.reason).toBe('last will');
    } finally {
      await w.close();
    }
  });

  it('a malformed-payload storm does not take it down (aedes, in-memory)', async () => {
    const rig = await startRig('aedes');
    try {
      const client = await mqtt.connectAsync(rig.broker.url);
      for (let i = 0; i < 200; i++) {
        await client.publishAsync(
          'servofleet/drives/axis-1/commands',
          i % 2 ? '\u0000\u0001' : `{"type":${i}}`,
          { qos: 1 },
        );
      }
      await client.endAsync();
      expect(
        await rig.watcher.command('axis-1', { commandId: 'after-storm', type: 'disable' }),
      ).toMatchObject({ status: 'completed' });
    } finally {
      await rig.close();
    }
  });
});
