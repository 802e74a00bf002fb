/**
 * A third-party Modbus master (modbus-serial, as test engineers would use) drives the
 * simulator over the raw-TCP serial bridge and over a real PTY pair made by socat, on
 * the wall clock: read the statusword, walk to OPERATION_ENABLED, start a
 * profile-position move, and read the position arrive.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import modbusSerial from 'modbus-serial';
import type { ModbusRTU as Client } from 'modbus-serial/ModbusRTU.js';
import { afterEach, describe, expect, it } from 'vitest';
import { cia402 } from '../../firmware-protocol/src/index.ts';
import { Simulator } from '../src/simulator.ts';
import { PROFILES } from './harness.ts';

const S = cia402.Cia402State;
// modbus-serial is CommonJS (`module.exports = ModbusRTU`); its typings say `export default`.
const ModbusRTU = modbusSerial as unknown as new () => Client;

function simOn(listen: string) {
  return new Simulator({
    seed: 3,
    links: [
      {
        id: 'bus-a',
        protocol: 'modbus-rtu',
        baud: 115200,
        listen,
        turnaroundMs: 1,
        drives: [1, 2].map((u) => ({
          id: `axis-${u}`,
          unit: u,
          profile: PROFILES.get('sf-servo')!,
        })),
      },
    ],
  });
}

/** Poll `read` until `ok` holds, at most `tries` times (each a full Modbus round trip). */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, tries = 2000): Promise<T> {
  let v = await read();
  for (let i = 0; i < tries && !ok(v); i++) v = await read();
  return v;
}

async function walkAndMove(client: Client) {
  client.setID(2);
  client.setTimeout(1000);
  const status = async () => (await client.readHoldingRegisters(1, 1)).data[0]!;
  expect(cia402.decodeStatusword(await status())).toBe(S.SWITCH_ON_DISABLED);
  for (const cw of [0x06, 0x07, 0x0f]) await client.writeRegister(0, cw);
  expect(cia402.decodeStatusword(await status())).toBe(S.OPERATION_ENABLED);
  // Target 6000 counts (0x607A, high word first), then a new set-point edge.
  await client.writeRegisters(4, [0x0000, 6000]);
  await client.writeRegister(0, 0x1f);
  await client.writeRegister(0, 0x0f);
  const position = async () => {
    const r = await client.readHoldingRegisters(6, 2);
    return ((r.data[0]! << 16) | r.data[1]!) >> 0;
  };
  const reached = (sw: number) => (sw & (1 << cia402.StatuswordBit.TargetReached)) !== 0;
  const sw = await until(status, reached);
  expect(reached(sw)).toBe(true);
  expect(Math.abs((await position()) - 6000)).toBeLessThanOrEqual(10);
  // Its neighbour on the bus answers too and has not moved. modbus-serial sends the
  // first request to another unit straight after the last reply, without the
  // 3.5-character silence: that unit may hear it as the reply's tail and not answer, as
  // on a real RS-485 bus (libmodbus #382: "only for the 1st poll message after the slave
  // id has been changed"). A second try, after the timeout's silence, is answered.
  client.setID(1);
  client.setTimeout(200);
  let neighbour: number[] | undefined;
  for (let attempt = 0; attempt < 2 && neighbour === undefined; attempt++) {
    neighbour = await client.readHoldingRegisters(6, 2).then(
      (r) => r.data,
      () => undefined,
    );
  }
  expect(neighbour).toEqual([0, 0]);
}

describe('third-party Modbus master against the simulator', () => {
  let sim: Simulator | undefined;
  let client: Client | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (client?.isOpen ? client.close(() => r()) : r()));
    await sim?.close();
  });

  it('works over the raw TCP serial bridge (ser2net style)', async () => {
    sim = simOn('tcp://127.0.0.1:0');
    const [where] = await sim.start();
    const port = Number(new URL(where!.address).port);
    client = new ModbusRTU();
    // modbus-serial's "telnet" port is RTU framing over raw TCP, i.e. a serial bridge.
    await client.connectTelnet('127.0.0.1', { port });
    await walkAndMove(client);
  });

  it('works over a real PTY pair made by socat', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sf-pty-')), 'bus-a');
    sim = simOn(`pty://${path}`);
    await sim.start();
    client = new ModbusRTU();
    await client.connectRTUBuffered(path, { baudRate: 115200 });
    await walkAndMove(client);
  });
});
