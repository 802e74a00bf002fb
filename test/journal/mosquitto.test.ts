/**
 * Two journals on Mosquitto (MQTT 5) share the stream through the shared subscription
 * `$share/servofleet-journal/…`: each event is stored by exactly one of them.
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
});
