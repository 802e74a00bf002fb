/**
 * `npm run bench -- device`: the device service's bus scheduler against the simulator.
 *
 * - Bus efficiency: sf-servo drives polled as fast as the bus allows (each poll one
 *   FC 0x03 read of 22 registers), over a paced raw-TCP serial link at 115200 and at
 *   1 Mbaud, with 4 and 8 drives; transactions/s as a fraction of the link's
 *   theoretical limit (request + response bytes at 10 bits a byte, plus the two
 *   3.5-character silences; no turnaround, as DESIGN.md's link limits count it), side
 *   by side with modbus-serial doing the same reads in a loop over the same kind of link
 *   — on the simulator as a real RS-485 bus frames it (a request sent without the
 *   silence after another unit's reply is lost) and, beside it, on one that forgives
 *   the missing silence.
 *   The simulator runs on precise timers so that the link, not Node's millisecond
 *   timer granularity, is what is measured.
 * - Dead unit: 8 drives at 10 Hz on 115200 baud; the healthy drives' achieved poll
 *   rate with one drive dead, as a fraction of the rate with none dead — with the
 *   breaker, and with the breaker effectively off.
 * - Latency: a drive's state changes in the simulator → a subscriber sees it on MQTT,
 *   through the whole device service and the embedded broker (axis polled at 20 Hz),
 *   at 115200 and at 1 Mbaud; through the embedded aedes broker and through Mosquitto;
 *   with plain polling (its floor is a poll period plus the reply on the wire) and with
 *   watch reads (`watchHz`: the statusword read in idle bus time).
 */
import { resolve } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { createPreciseClock, Simulator } from '../device-sim/src/index.ts';
import { modbus, profiles } from '../firmware-protocol/src/index.ts';
import { Bus } from '../services/device/src/bus/index.ts';
import { startDeviceProcess } from '../services/device/src/device-process.ts';
import { parseFleet, startEmbeddedBroker } from '../services/runtime/src/index.ts';
import { MOSQUITTO, startMosquitto } from '../services/runtime/test/helpers.ts';
import { percentile, type Row } from './harness.ts';

const SF = profiles
  .loadProfileDir(resolve(import.meta.dirname, '../config/profiles'))
  .get('sf-servo')!;
const QUANTITY = profiles.planReads(SF, SF.poll ?? [])[0]!.quantity;
const silent = pino({ level: 'silent' });
/** The watch rate the latency rows with watch reads use (as `watchHz` in a fleet file). */
const WATCH_HZ = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function linkLimit(baud: number): number {
  const bytes = 8 + modbus.expectedResponseLength({ fc: 0x03, address: 1, quantity: QUANTITY });
  const ms = (bytes * 10 * 1000) / baud + 2 * modbus.silenceMs(baud);
  return 1000 / ms;
}

async function simOnTcp(n: number, baud: number, turnaroundMs = 0, lenientFraming = false) {
  const sim = new Simulator({
    clock: createPreciseClock(),
    seed: 1,
    links: [
      {
        id: 'bus',
        protocol: 'modbus-rtu',
        baud,
        listen: 'tcp://127.0.0.1:0',
        turnaroundMs,
        lenientFraming,
        drives: Array.from({ length: n }, (_, i) => ({
          id: `d${i + 1}`,
          unit: i + 1,
          profile: SF,
        })),
      },
    ],
  });
  const [where] = await sim.start();
  return { sim, url: where!.address, port: Number(new URL(where!.address).port) };
}

async function oursTps(n: number, baud: number, seconds: number): Promise<number> {
  const { sim, url } = await simOnTcp(n, baud);
  const bus = new Bus({
    linkId: 'bus',
    protocol: 'modbus-rtu',
    baud,
    drives: Array.from({ length: n }, (_, i) => ({
      id: `d${i + 1}`,
      unit: i + 1,
      profile: SF,
      pollHz: 1000,
    })),
    link: url,
  });
  bus.start();
  await sleep(1000);
  const t0 = bus.stats().transactions;
  const start = performance.now();
  await sleep(seconds * 1000);
  const tps = ((bus.stats().transactions - t0) * 1000) / (performance.now() - start);
  await bus.stop();
  await sim.close();
  return tps;
}

/**
 * modbus-serial reading each unit in turn. It sends the next request as soon as a reply
 * is in, without the 3.5-character silence. By default the simulator frames the bus as
 * RS-485 slaves do, so the other units hear that request as the tail of the reply and
 * do not answer (see device-sim's ModbusSlave); `lenient` answers it anyway. Returns
 * answered reads/s and the share of requests that timed out.
 */
async function modbusSerialTps(
  n: number,
  baud: number,
  seconds: number,
  lenient: boolean,
): Promise<{ tps: number; lost: number }> {
  const { sim, port } = await simOnTcp(n, baud, 0, lenient);
  const { default: ModbusRTU } = (await import('modbus-serial')) as unknown as {
    default: new () => {
      connectTelnet(ip: string, o: { port: number }): Promise<void>;
      setID(id: number): void;
      setTimeout(ms: number): void;
      readHoldingRegisters(a: number, q: number): Promise<unknown>;
      close(cb: () => void): void;
    };
  };
  const client = new ModbusRTU();
  await client.connectTelnet('127.0.0.1', { port });
  client.setTimeout(200);
  let count = 0;
  let failed = 0;
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      client.setID((i % n) + 1);
      try {
        await client.readHoldingRegisters(1, QUANTITY);
        count++;
      } catch {
        failed++; // a timeout counts as no transaction
      }
    }
  })();
  await sleep(1000);
  const c0 = count;
  const f0 = failed;
  const start = performance.now();
  await sleep(seconds * 1000);
  const tps = ((count - c0) * 1000) / (performance.now() - start);
  const lost = (failed - f0) / Math.max(1, count - c0 + failed - f0);
  running = false;
  await loop;
  await new Promise<void>((r) => client.close(() => r()));
  await sim.close();
  return { tps, lost };
}

async function healthyRate(dead: boolean, breaker: boolean, seconds: number): Promise<number> {
  const n = 8;
  const { sim, url } = await simOnTcp(n, 115200, 1);
  const bus = new Bus({
    linkId: 'bus',
    protocol: 'modbus-rtu',
    baud: 115200,
    drives: Array.from({ length: n }, (_, i) => ({
      id: `d${i + 1}`,
      unit: i + 1,
      profile: SF,
      pollHz: 10,
    })),
    link: url,
    breaker: breaker ? {} : { failures: 1e9 },
  });
  if (dead) sim.inject({ drive: 'd8', fault: 'no-response' });
  bus.start();
  await sleep(2000);
  const polls = () =>
    [1, 2, 3, 4, 5, 6, 7].reduce((s, i) => s + bus.stats().drives[`d${i}`]!.polls, 0);
  const p0 = polls();
  const start = performance.now();
  await sleep(seconds * 1000);
  const rate = ((polls() - p0) * 1000) / (performance.now() - start) / 7;
  await bus.stop();
  await sim.close();
  return rate;
}

async function stateLatency(
  samples: number,
  baud: number,
  brokerKind: 'aedes' | 'mosquitto',
  watchHz?: number,
): Promise<number[]> {
  const broker =
    brokerKind === 'aedes'
      ? await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log: silent })
      : await startMosquitto();
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const w = watchHz === undefined ? '' : `, watchHz: ${watchHz}`;
  const fleet = parseFleet(`
profilesDir: ${resolve(import.meta.dirname, '../config/profiles')}
broker: { url: ${url}, embedded: false }
links:
  - { id: bus-a, protocol: modbus-rtu, transport: memory://bus-a, baud: ${baud}, drives: [{ id: axis-1, unit: 1, profile: sf-servo, pollHz: 20${w} }, { id: axis-2, unit: 2, profile: sf-servo, pollHz: 20${w} }] }
`);
  const sim = new Simulator({
    clock: createPreciseClock(),
    links: [
      {
        id: 'bus-a',
        protocol: 'modbus-rtu',
        baud,
        listen: 'memory://',
        turnaroundMs: 1,
        drives: [1, 2].map((u) => ({ id: `axis-${u}`, unit: u, profile: SF })),
      },
    ],
  });
  await sim.start();
  const dev = await startDeviceProcess({
    fleet,
    linkId: 'bus-a',
    profiles: new Map([['sf-servo', SF]]),
    log: silent,
    link: async () => sim.connect('bus-a'),
    adminPort: 0,
    latencyMs: 10,
  });
  const client = await mqtt.connectAsync(url);
  await client.subscribeAsync('servofleet/drives/axis-1/state', { qos: 1 });
  let want: string | undefined;
  let seen: (() => void) | undefined;
  client.on('message', (_t, payload) => {
    if (want && JSON.parse(payload.toString()).cia402 === want) seen?.();
  });
  await sleep(1500);
  const drive = sim.drive('axis-1');
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const faulting = i % 2 === 0;
    want = faulting ? 'FAULT' : 'SWITCH_ON_DISABLED';
    const got = new Promise<void>((r) => {
      seen = r;
    });
    // Desynchronise from the poll phase.
    await sleep(Math.random() * 50);
    const t0 = performance.now();
    if (faulting) {
      drive.raiseFault(0x2310); // unpowered: straight to FAULT
    } else {
      drive.write('controlword', 0x00);
      drive.write('controlword', 0x80);
    }
    await got;
    out.push(performance.now() - t0);
  }
  await client.endAsync();
  await dev.stop();
  await sim.close();
  await ('close' in broker ? broker.close() : broker.stop());
  return out.sort((a, b) => a - b);
}

export async function deviceSuite(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const baud of [115200, 1_000_000]) {
    const limit = linkLimit(baud);
    for (const n of [4, 8]) {
      const ours = await oursTps(n, baud, 3);
      const ref = await modbusSerialTps(n, baud, 3, false);
      const lenient = await modbusSerialTps(n, baud, 3, true);
      rows.push({
        suite: 'device',
        name: `bus efficiency, ${n} drives, ${baud} baud`,
        value: (ours / limit) * 100,
        unit: '% of link limit',
        reference: { name: 'modbus-serial loop', value: (ref.tps / limit) * 100 },
        note: `${ours.toFixed(0)} answered reads/s vs modbus-serial ${ref.tps.toFixed(0)} (${(ref.lost * 100).toFixed(0)} % of its requests lost: sent without the inter-frame silence, the other units hear them as the last reply's tail); on a simulator that forgives the missing silence (lenientFraming) modbus-serial does ${lenient.tps.toFixed(0)}/s, past the limit; limit ${limit.toFixed(0)}/s (read ${QUANTITY} registers)`,
      });
    }
  }
  const healthy = await healthyRate(false, true, 4);
  const withBreaker = await healthyRate(true, true, 4);
  const noBreaker = await healthyRate(true, false, 4);
  rows.push({
    suite: 'device',
    name: 'healthy poll rate, 1 of 8 dead, breaker on',
    value: (withBreaker / healthy) * 100,
    unit: '% of no-fault rate',
    reference: { name: 'breaker off', value: (noBreaker / healthy) * 100 },
    note: `${withBreaker.toFixed(1)} / ${noBreaker.toFixed(1)} / ${healthy.toFixed(1)} Hz (breaker on / off / no fault), target 10 Hz`,
  });
  // Through the embedded broker (npm start) and through Mosquitto (compose, production).
  const brokers = MOSQUITTO ? (['aedes', 'mosquitto'] as const) : (['aedes'] as const);
  for (const brokerKind of brokers) {
    for (const baud of [115200, 1_000_000]) {
      const lat = await stateLatency(200, baud, brokerKind);
      const watched = await stateLatency(200, baud, brokerKind, WATCH_HZ);
      // The floor: a change just after the drive answered waits a whole period for the
      // next poll, then the reply's silence, turnaround and bytes cross the wire.
      const replyMs =
        modbus.silenceMs(baud) +
        1 +
        (modbus.expectedResponseLength({ fc: 0x03, address: 1, quantity: QUANTITY }) * 10 * 1000) /
          baud;
      const via = brokerKind === 'aedes' ? 'embedded aedes' : 'Mosquitto';
      rows.push({
        suite: 'device',
        name: `state change → subscriber p50 (20 Hz poll, ${baud} baud, ${via})`,
        value: percentile(lat, 50),
        unit: 'ms',
      });
      rows.push({
        suite: 'device',
        name: `state change → subscriber p99 (20 Hz poll, ${baud} baud, ${via})`,
        value: percentile(lat, 99),
        unit: 'ms',
        note: `target ≤ 55 ms (one poll period + 5 ms); floor ${(50 + replyMs).toFixed(1)} ms (period + reply on the wire); max ${lat.at(-1)!.toFixed(1)} ms of ${lat.length}`,
      });
      rows.push({
        suite: 'device',
        name: `state change → subscriber p50 (20 Hz poll + watchHz ${WATCH_HZ}, ${baud} baud, ${via})`,
        value: percentile(watched, 50),
        unit: 'ms',
      });
      rows.push({
        suite: 'device',
        name: `state change → subscriber p99 (20 Hz poll + watchHz ${WATCH_HZ}, ${baud} baud, ${via})`,
        value: percentile(watched, 99),
        unit: 'ms',
        note: `target ≤ 55 ms (one poll period + 5 ms); statusword read in idle bus time, a whole poll when it changed; max ${watched.at(-1)!.toFixed(1)} ms of ${watched.length}`,
      });
    }
  }
  return rows;
}
