/**
 * `npm run bench -- protocol`: decode throughput of the incremental framers and CRC
 * throughput, side by side in the same run with modbus-serial's own CRC function and
 * its RTU buffered parser (the reference named in the issue).
 *
 * Each Modbus "frame" is a complete read-10-registers response (25 bytes) to a request
 * the master just armed, fed as one chunk, then CRC-checked and decoded to register
 * values — the work a master does per poll. The reference does the same with
 * modbus-serial's pieces: its RTUBufferedPort framing (the `data` handler, fed
 * directly, no serial port opened), its crc16, and a register decode loop like its
 * `_readFC3`.
 */
import { createRequire } from 'node:module';
import { crc16Dynamixel, crc16Modbus, dynamixel, modbus } from '../firmware-protocol/src/index.ts';
import { opsPerSecond, type Row } from './harness.ts';

const require = createRequire(import.meta.url);
const refCrc16 = require('modbus-serial/utils/crc16') as (b: Buffer) => number;
const RTUBufferedPort = require('modbus-serial/ports/rtubufferedport') as new (
  path: string,
  opts: object,
) => {
  _id: number;
  _cmd: number;
  _length: number;
  _client: { emit(ev: string, d: Buffer): void };
  on(ev: 'data', fn: (d: Buffer) => void): void;
};

export async function protocolSuite(): Promise<Row[]> {
  const rows: Row[] = [];
  const req = { fc: 0x03, address: 0, quantity: 10 } as const;
  const values = Array.from({ length: 10 }, (_, i) => (i * 4099) & 0xffff);
  const response = modbus.encodeResponse(1, { fc: 0x03, values });

  // servofleet: arm, feed, get the decoded frame.
  const framer = new modbus.RtuMasterFramer({ baud: 115200, gapMs: null });
  let t = 0;
  let sink = 0;
  const ours = opsPerSecond(() => {
    framer.expect(1, req);
    t += 1;
    const frames = framer.feed(response, t);
    sink += (frames[0]!.pdu as { values: number[] }).values[9]!;
  });

  // modbus-serial: RTUBufferedPort framing + crc16 + register decode, per response.
  const port = new RTUBufferedPort('/dev/null-bench', { baudRate: 115200 });
  const buf = Buffer.from(response);
  port.on('data', (frame: Buffer) => {
    const crc = refCrc16(frame.subarray(0, -2));
    if (crc !== frame.readUInt16LE(frame.length - 2)) throw new Error('crc');
    const n = frame[2]! / 2;
    const regs = new Array<number>(n);
    for (let i = 0; i < n; i++) regs[i] = frame.readUInt16BE(3 + i * 2);
    sink += regs[9]!;
  });
  const ref = opsPerSecond(() => {
    port._id = 1;
    port._cmd = 3;
    port._length = response.length;
    port._client.emit('data', buf);
  });
  rows.push({
    suite: 'protocol',
    name: 'Modbus RTU read-10 response decode',
    value: ours,
    unit: 'frames/s',
    reference: { name: 'modbus-serial RTUBufferedPort+crc16', value: ref },
  });

  // Dynamixel: a status packet with 10 data bytes through the framer.
  const status = dynamixel.encodeStatus({
    id: 1,
    error: 0,
    params: Uint8Array.from({ length: 10 }, (_, i) => i * 7),
  });
  const dxl = new dynamixel.DynamixelFramer();
  const dxlRate = opsPerSecond(() => {
    const p = dxl.feed(status);
    sink += p.length;
  });
  rows.push({
    suite: 'protocol',
    name: 'Dynamixel status (10 data bytes) decode',
    value: dxlRate,
    unit: 'packets/s',
  });

  // CRC throughput over a 256-byte buffer.
  const block = Uint8Array.from({ length: 256 }, (_, i) => (i * 31) & 0xff);
  const blockBuf = Buffer.from(block);
  const mb = (ops: number) => (ops * block.length) / 1e6;
  const crcOurs = mb(
    opsPerSecond(() => {
      sink ^= crc16Modbus(block);
    }),
  );
  const crcRef = mb(
    opsPerSecond(() => {
      sink ^= refCrc16(blockBuf);
    }),
  );
  rows.push({
    suite: 'protocol',
    name: 'CRC-16/MODBUS',
    value: crcOurs,
    unit: 'MB/s',
    reference: { name: 'modbus-serial crc16', value: crcRef },
  });
  const crcDxl = mb(
    opsPerSecond(() => {
      sink ^= crc16Dynamixel(block);
    }),
  );
  rows.push({ suite: 'protocol', name: 'CRC-16 Dynamixel (0x8005)', value: crcDxl, unit: 'MB/s' });
  if (sink === 0.5) console.log(sink); // keep the work observable
  return rows;
}
