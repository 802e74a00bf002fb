/**
 * The journal acknowledges (QoS 1 PUBACK) an event only once its row is committed.
 *
 * Watched from the broker's side: aedes emits `ack` when a subscriber's PUBACK
 * arrives; at that moment a second, read-only connection to the database must already
 * see the row. A store that fails an append makes the difference visible: an event
 * whose append failed must not be acknowledged, and must come back (the broker
 * delivers it again after the journal reconnects) and be stored exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, parseFleet, startEmbeddedBroker } from '../../runtime/src/index.ts';
import { eventually } from '../../runtime/test/helpers.ts';
import { type AckMode, type EventStore, type RunningJournal, startJournal } from '../src/index.ts';
import { type Database, openDatabase } from '../src/store/sqlite.ts';

const silent = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'servofleet-journal-ack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;

describe.each<AckMode>(['batched', 'per-message'])('%s acknowledgements', (mode) => {
  let broker: EmbeddedBroker;
  let publisher: MqttClient;
  let journal: RunningJournal | undefined;
  let reader: Database | undefined;
  let dbPath: string;
  let failAppends = 0;
  /** For each PUBACK from the journal: the eventId, and whether its row was committed. */
  let acks: { eventId: string; committed: boolean }[];

  const fleet = () =>
    parseFleet(`
profilesDir: /
broker: { url: mqtt://127.0.0.1:${broker.port}, embedded: false }
links: [{ id: bus-a, protocol: modbus-rtu, transport: memory://a, drives: [{ id: axis-1, unit: 1, profile: sf-servo }] }]
journal: { port: 0, path: unused }
`);

  const start = async () => {
    journal = await startJournal({
      fleet: fleet(),
      dbPath,
      log: silent,
      port: 0,
      ackMode: mode,
      wrapStore: (s: EventStore): EventStore =>
        Object.assign(Object.create(s) as EventStore, {
          append(rows: Parameters<EventStore['append']>[0]) {
            if (failAppends > 0) {
              failAppends--;
              throw new Error('disk I/O error (injected)');
            }
            return s.append(rows);
          },
        }),
    });
    await eventually(async () => (await fetch(`${journal!.url}/readyz`)).ok, 'journal ready');
    reader ??= openDatabase(dbPath, { readonly: true });
  };

  const rows = (eventId: string) =>
    (
      reader!.prepare('SELECT count(*) AS n FROM events WHERE event_id = ?').get(eventId) as {
        n: number;
      }
    ).n;

  const publish = (eventId: string) =>
    publisher.publishAsync(
      'servofleet/drives/axis-1/events',
      JSON.stringify({ eventId, driveId: 'axis-1', ts: Date.now(), type: 'state', to: 'FAULT' }),
      { qos: 1 },
    );

  beforeEach(async () => {
    broker = await startEmbeddedBroker({ port: 0, log: silent });
    dbPath = join(dir, `ack-${++files}.db`);
    failAppends = 0;
    acks = [];
    broker.aedes.on('ack', (packet, client) => {
      if (!journal || client?.id !== journal.clientId || !('payload' in packet)) return;
      const eventId = (JSON.parse(packet.payload.toString()) as { eventId: string }).eventId;
      acks.push({ eventId, committed: rows(eventId) === 1 });
    });
    publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  });

  afterEach(async () => {
    await publisher.endAsync(true);
    await journal?.close();
    journal = undefined;
    reader?.close();
    reader = undefined;
    await broker.close();
  });

  it('every PUBACK reaches the broker after its row is committed', async () => {
    await start();
    const ids = Array.from({ length: 300 }, (_, i) => `${mode}-burst-${i}`);
    await Promise.all(ids.map(publish));
    await eventually(() => acks.length >= ids.length, 'a PUBACK for every event', 10_000);
    expect(acks.map((a) => a.eventId).sort()).toEqual([...ids].sort());
    expect(acks.filter((a) => !a.committed)).toEqual([]);
    // PUBACKs go in the order the PUBLISHes came [MQTT-4.6.0-2].
    expect(acks.map((a) => a.eventId)).toEqual(ids);
  });

  it('never acknowledges an event whose append failed; it comes back and is stored once', async () => {
    await start();
    failAppends = 1;
    await publish(`${mode}-doomed`);
    await eventually(() => journal!.ingest.stats().failedCommits === 1, 'the failed append');
    // The journal reconnects; the broker delivers the event again; this time it sticks.
    await eventually(
      () => acks.some((a) => a.eventId === `${mode}-doomed`),
      'the PUBACK after the redelivery',
      10_000,
    );
    await publish(`${mode}-after`);
    await eventually(() => acks.some((a) => a.eventId === `${mode}-after`), 'the next PUBACK');
    expect(acks.filter((a) => !a.committed)).toEqual([]);
    expect(rows(`${mode}-doomed`)).toBe(1);
    expect(journal!.ingest.healthy).toBe(true);
  });

  it('keeps its session across a restart: what came while it was down is stored', async () => {
    await start();
    await publish(`${mode}-before`);
    await eventually(() => acks.length === 1, 'the first PUBACK');
    await journal!.close();
    journal = undefined;
    const ids = Array.from({ length: 20 }, (_, i) => `${mode}-while-down-${i}`);
    await Promise.all(ids.map(publish));
    await start();
    await eventually(() => acks.length === 21, 'PUBACKs for what was queued', 10_000);
    for (const id of ids) expect(rows(id)).toBe(1);
    expect(acks.filter((a) => !a.committed)).toEqual([]);
  });
});
