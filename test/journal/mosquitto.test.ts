/**
 * Two journals on Mosquitto (MQTT 5) share the stream through the shared subscription
 * `$share/servofleet-journal/…`: each event is stored by exactly one of them. Replicas
 * run from one fleet file, told apart by `SERVOFLEET_JOURNAL_INSTANCE`, each keep their
 * own session and availability.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningJournal, startJournal } from '../../services/journal/src/index.ts';
import { parseFleet } from '../../services/runtime/src/index.ts';
import { eventually, startMosquitto } from '../../services/runtime/test/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'servofleet-journal-mosq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const silent = pino({ level: 'silent' });
const N = 400;

describe('two journals on Mosquitto', () => {
  it('store each event once in total, both taking a share', async () => {
    const broker = await startMosquitto();
    const fleet = parseFleet(`
profilesDir: /
broker: { url: ${broker.url}, embedded: false }
links: [{ id: bus-a, protocol: modbus-rtu, transport: memory://a, drives: [{ id: axis-1, unit: 1, profile: sf-servo }] }]
`);
    const journals: RunningJournal[] = [];
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    try {
      for (const name of ['a', 'b']) {
        const j = await startJournal({
          fleet,
          dbPath: join(dir, `${name}.db`),
          log: silent,
          port: 0,
        });
        journals.push(j);
        await eventually(async () => (await fetch(`${j.url}/readyz`)).ok, `journal ${name} ready`);
        expect(j.mqtt.protocolVersion).toBe(5);
      }
      const ids = Array.from({ length: N }, (_, i) => `shared-${i}`);
      await Promise.all(
        ids.map((eventId, i) =>
          publisher.publishAsync(
            `servofleet/drives/axis-${(i % 3) + 1}/events`,
            JSON.stringify({ eventId, ts: 1_764_000_000_000 + i, type: 'state' }),
            { qos: 1 },
          ),
        ),
      );
      const rows = (j: RunningJournal) => j.store.rowCount();
      await eventually(
        () => journals.reduce((n, j) => n + rows(j), 0) >= N,
        `${N} rows over both journals`,
        10_000,
      );
      const stored = journals.map((j) =>
        j.store
          .query({ limit: 1000, order: 'asc' })
          .events.map((e) => (JSON.parse(e.json) as { eventId: string }).eventId),
      );
      const [a, b] = stored as [string[], string[]];
      expect(a.length + b.length).toBe(N);
      expect(a.filter((id) => b.includes(id))).toEqual([]);
      expect(new Set([...a, ...b])).toEqual(new Set(ids));
      expect(a.length).toBeGreaterThan(0);
      expect(b.length).toBeGreaterThan(0);
    } finally {
      await publisher.endAsync(true);
      for (const j of journals) await j.close();
      await broker.stop();
    }
  });

  it('replicas of one fleet file with their own instance ids: own session and availability, neither takes the other’s', async () => {
    const broker = await startMosquitto();
    const yaml = `
profilesDir: /
broker: { url: ${broker.url}, embedded: false }
links: [{ id: bus-a, protocol: modbus-rtu, transport: memory://a, drives: [{ id: axis-1, unit: 1, profile: sf-servo }] }]
`;
    const journals: RunningJournal[] = [];
    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    const seen: { topic: string; status: string }[] = [];
    watcher.on('message', (topic, payload) => {
      seen.push({ topic, status: (JSON.parse(payload.toString()) as { status: string }).status });
    });
    await watcher.subscribeAsync('servofleet/services/+/availability', { qos: 1 });
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    try {
      for (const instance of ['a', 'b']) {
        const fleet = parseFleet(yaml, 'fleet', { SERVOFLEET_JOURNAL_INSTANCE: instance });
        const j = await startJournal({
          fleet,
          // Its own volume in a container; here its own directory.
          dbPath: join(dir, `replica-${instance}.db`),
          log: silent,
          port: 0,
        });
        journals.push(j);
        expect(j.clientId).toBe(`journal-${instance}`);
        expect(j.serviceId).toBe(`journal-${instance}`);
        await eventually(
          async () => (await fetch(`${j.url}/readyz`)).ok,
          `replica ${instance} ready`,
        );
      }
      const n = 100;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          publisher.publishAsync(
            'servofleet/drives/axis-1/events',
            JSON.stringify({ eventId: `replica-${i}`, ts: 1_764_000_000_000 + i, type: 'state' }),
            { qos: 1 },
          ),
        ),
      );
      await eventually(
        () => journals.reduce((k, j) => k + j.store.rowCount(), 0) >= n,
        `${n} rows over both replicas`,
        10_000,
      );
      expect(journals.map((j) => j.store.rowCount() > 0)).toEqual([true, true]);
      // Each said online on its own topic and nothing else: a replica whose session had
      // been taken over would have gone offline (its last will) and come back.
      await eventually(
        () => seen.filter((m) => m.status === 'online').length >= 2,
        'both replicas online',
      );
      expect(seen).toEqual(
        expect.arrayContaining([
          { topic: 'servofleet/services/journal-a/availability', status: 'online' },
          { topic: 'servofleet/services/journal-b/availability', status: 'online' },
        ]),
      );
      expect(seen.filter((m) => m.status !== 'online')).toEqual([]);
      expect(journals.every((j) => j.mqtt.connected)).toBe(true);
      // Closed: each says offline on its own topic.
      for (const j of journals) await j.close();
      await eventually(
        () => seen.filter((m) => m.status === 'offline').length >= 2,
        'both replicas offline',
      );
      expect(
        seen
          .filter((m) => m.status === 'offline')
          .map((m) => m.topic)
          .sort(),
      ).toEqual([
        'servofleet/services/journal-a/availability',
        'servofleet/services/journal-b/availability',
      ]);
    } finally {
      await publisher.endAsync(true);
      await watcher.endAsync(true);
      for (const j of journals) await j.close();
      await broker.stop();
    }
  });
});
