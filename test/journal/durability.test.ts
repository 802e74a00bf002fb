/**
 * kill -9 of the journal under a stream of events: after a restart, every event the
 * publisher got a PUBACK for is in the database, and none twice.
 *
 * The journal runs as its own process (`servofleet journal`); the broker (aedes) and
 * the publisher stay up throughout. Guarantees at work: the journal's persistent
 * session keeps what it has not acknowledged, and it acknowledges only committed
 * rows; a redelivered event already stored is ignored on its eventId.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../services/journal/src/store/sqlite.ts';
import { startEmbeddedBroker } from '../../services/runtime/src/index.ts';
import { eventually } from '../../services/runtime/test/helpers.ts';
import { journalConfig, spawnJournal, waitReady } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'servofleet-journal-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const N = 3000;
const WINDOW = 32;

describe('journal durability', () => {
  it('keeps every acknowledged event across kill -9, each once', async () => {
    const broker = await startEmbeddedBroker({ port: 0, log: pino({ level: 'silent' }) });
    const cfg = await journalConfig(dir, broker.url);
    let journal = spawnJournal(cfg);
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    try {
      await waitReady(cfg, journal);
      const rowsNow = () => {
        const db = openDatabase(cfg.dbPath, { readonly: true });
        try {
          return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
        } finally {
          db.close();
        }
      };

      const acked = new Set<string>();
      let killedAt: number | undefined;
      const inFlight = new Set<Promise<void>>();
      for (let i = 0; i < N; i++) {
        const eventId = `kill9-${i}`;
        const p = publisher
          .publishAsync(
            'servofleet/drives/axis-1/events',
            JSON.stringify({ eventId, driveId: 'axis-1', ts: Date.now(), type: 'state', seq: i }),
            { qos: 1 },
          )
          .then(() => {
            acked.add(eventId);
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= WINDOW) await Promise.race(inFlight);
        // Mid-stream, once the journal is writing: kill -9, no goodbye.
        if (killedAt === undefined && acked.size >= N / 3 && rowsNow() > 0) {
          journal.child.kill('SIGKILL');
          await journal.exited;
          killedAt = acked.size;
        }
      }
      await Promise.all(inFlight);
      expect(killedAt).toBeDefined();
      expect(killedAt!).toBeLessThan(N);
      expect(acked.size).toBe(N);

      journal = spawnJournal(cfg);
      await waitReady(cfg, journal);
      await eventually(() => rowsNow() >= acked.size, `${acked.size} rows`, 30_000, 200);

      const db = openDatabase(cfg.dbPath, { readonly: true });
      const ids = (db.prepare('SELECT event_id AS id FROM events').all() as { id: string }[]).map(
        (r) => r.id,
      );
      db.close();
      const stored = new Set(ids);
      expect(ids.length).toBe(stored.size); // none twice
      expect([...acked].filter((id) => !stored.has(id))).toEqual([]); // every acked one there
      expect(ids.length).toBe(N);

      journal.child.kill('SIGTERM');
      expect(await journal.exited).toBe(0);
    } finally {
      if (journal.child.exitCode === null) journal.child.kill('SIGKILL');
      await publisher.endAsync(true);
      await broker.close();
    }
  }, 90_000);
});
