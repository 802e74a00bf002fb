/**
 * `npm run bench -- journal`: how fast the journal makes events durable.
 *
 * - Appends/s to the SQLite store as the journal opens it (WAL, synchronous=FULL: every
 *   commit fsyncs the WAL), one transaction per event against batches of 10, 100 and
 *   1000 events; ~1 s each, on the temp directory's file system.
 * - End to end: a publisher streams events at QoS 1 through aedes (both in a worker
 *   thread, so they do not share the journal's event loop) to a journal in this
 *   process; events stored per second over 3 s, once with batched acknowledgements
 *   (the default: PUBACKs held until their batch commits) and once with one
 *   transaction per event (acknowledged from `handleMessage`'s callback).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import {
  type AckMode,
  type EventRow,
  openEventStore,
  startJournal,
} from '../services/journal/src/index.ts';
import { parseFleet } from '../services/runtime/src/index.ts';
import type { Row } from './harness.ts';

const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rows(n: number, from: number): EventRow[] {
  return Array.from({ length: n }, (_, i) => {
    const k = from + i;
    const e = {
      eventId: `bench-${k}`,
      driveId: `axis-${(k % 4) + 1}`,
      ts: 1_764_000_000_000 + k,
      type: 'command',
      commandId: `c-${k >> 2}`,
      commandType: 'moveTo',
      phase: 'completed',
    };
    return {
      eventId: e.eventId,
      ts: e.ts,
      driveId: e.driveId,
      lineId: null,
      type: e.type,
      commandIds: [e.commandId],
      phase: e.phase,
      topic: `servofleet/drives/${e.driveId}/events`,
      json: JSON.stringify(e),
      arrived: e.ts,
    };
  });
}

function appendRate(dir: string, batch: number, ms: number): number {
  const store = openEventStore(join(dir, `append-${batch}.db`));
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    store.append(rows(batch, n));
    n += batch;
    now = performance.now();
  }
  store.close();
  return (n * 1000) / (now - start);
}

/** aedes + a QoS 1 publisher keeping `window` publishes in flight, in a worker thread. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const mqtt = require(workerData.mqtt);
(async () => {
  const { Aedes } = await import(workerData.aedes);
  const aedes = await Aedes.createBroker();
  const server = net.createServer((s) => aedes.handle(s));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  parentPort.postMessage({ port: server.address().port });
  parentPort.once('message', async ({ seconds, window }) => {
    const c = await mqtt.connectAsync('mqtt://127.0.0.1:' + server.address().port, { protocolVersion: 4 });
    const end = Date.now() + seconds * 1000;
    let published = 0;
    let inflight = 0;
    await new Promise((resolve) => {
      const pump = () => {
        while (inflight < window && Date.now() < end) {
          inflight++;
          const k = published++;
          const e = { eventId: 'e2e-' + k, driveId: 'axis-1', ts: Date.now(), type: 'state', from: 'SWITCHED_ON', to: 'OPERATION_ENABLED' };
          c.publish('servofleet/drives/axis-1/events', JSON.stringify(e), { qos: 1 }, () => {
            inflight--;
            if (inflight === 0 && Date.now() >= end) resolve();
            else setImmediate(pump);
          });
        }
      };
      pump();
    });
    parentPort.postMessage({ published });
    await c.endAsync(true);
  });
})();
`;

async function endToEnd(
  dir: string,
  mode: AckMode,
  seconds: number,
): Promise<{ rate: number; batch: number; published: number }> {
  const require = createRequire(import.meta.url);
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { mqtt: require.resolve('mqtt'), aedes: import.meta.resolve('aedes') },
  });
  const next = () =>
    new Promise<Record<string, number>>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  const { port } = await next();
  const fleet = parseFleet(`
profilesDir: /
broker: { url: mqtt://127.0.0.1:${port}, embedded: false }
links: [{ id: bus-a, protocol: modbus-rtu, transport: memory://a, drives: [{ id: axis-1, unit: 1, profile: sf-servo }] }]
`);
  const j = await startJournal({
    fleet,
    dbPath: join(dir, `e2e-${mode}.db`),
    log: silent,
    port: 0,
    ackMode: mode,
  });
  try {
    for (let i = 0; i < 100 && !(await fetch(`${j.url}/readyz`)).ok; i++) await sleep(50);
    const done = next();
    worker.postMessage({ seconds: seconds + 1, window: 1000 });
    await sleep(1000); // warm-up
    const s0 = j.ingest.stats();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const s1 = j.ingest.stats();
    const rate = ((s1.stored - s0.stored) * 1000) / (performance.now() - t0);
    const batch = (s1.stored - s0.stored) / Math.max(1, s1.commits - s0.commits);
    const { published } = await done;
    return { rate, batch, published: published ?? 0 };
  } finally {
    await j.close();
    await worker.terminate();
  }
}

export async function journalSuite(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'servofleet-bench-journal-'));
  try {
    const out: Row[] = [];
    const single = appendRate(dir, 1, 1000);
    out.push({
      suite: 'journal',
      name: 'append, one transaction per event (fsync each)',
      value: single,
      unit: 'events/s',
    });
    for (const batch of [10, 100, 1000]) {
      out.push({
        suite: 'journal',
        name: `append, ${batch} events per transaction`,
        value: appendRate(dir, batch, 1000),
        unit: 'events/s',
        reference: { name: 'one per transaction', value: single },
      });
    }
    const perMessage = await endToEnd(dir, 'per-message', 3);
    const batched = await endToEnd(dir, 'batched', 3);
    out.push({
      suite: 'journal',
      name: 'end to end via aedes, QoS 1, ack after commit',
      value: batched.rate,
      unit: 'events/s',
      reference: { name: 'one transaction per event', value: perMessage.rate },
      note:
        `mean batch ${batched.batch.toFixed(1)} events (vs ${perMessage.batch.toFixed(1)}); ` +
        `the publisher offered ${Math.round(batched.published / 4)} events/s` +
        (batched.rate >= 0.95 * (batched.published / 4)
          ? ': the journal kept up, the publisher and broker set the figure'
          : ''),
    });
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
