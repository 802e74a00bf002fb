// biome-ignore-all format: annotated byte tables keep one wire field per line
/**
 * Annotated RTU test vectors shared by the tests (not exported by `index.ts`). PDUs are
 * the examples of Modbus Application Protocol V1.1b3 §6 and §7 behind unit 0x11; CRCs
 * cross-checked with modbus-serial's `utils/crc16.js`.
 */
import type { ModbusRequest, ModbusResponse, RtuFrame } from './messages.ts';

export interface Vector<T> {
  name: string;
  frame: RtuFrame<T>;
  bytes: number[];
}

export const REQUESTS: Vector<ModbusRequest>[] = [
  {
    name: 'DESIGN: read 10 holding registers from 0 on unit 1',
    frame: { unit: 1, pdu: { fc: 0x03, address: 0, quantity: 10 } },
    bytes: [
      0x01, // unit
      0x03, // fc: read holding registers
      0x00, 0x00, // starting address 0
      0x00, 0x0a, // quantity 10
      0xc5, 0xcd, // CRC, low byte first
    ],
  },
  {
    name: '§6.3 read holding registers 108–110',
    frame: { unit: 0x11, pdu: { fc: 0x03, address: 0x6b, quantity: 3 } },
    bytes: [
      0x11, // unit
      0x03, // fc
      0x00, 0x6b, // starting address 0x006B
      0x00, 0x03, // quantity 3
      0x76, 0x87, // CRC
    ],
  },
  {
    name: '§6.4 read input register 9',
    frame: { unit: 0x11, pdu: { fc: 0x04, address: 8, quantity: 1 } },
    bytes: [
      0x11, // unit
      0x04, // fc: read input registers
      0x00, 0x08, // starting address 8
      0x00, 0x01, // quantity 1
      0xb2, 0x98, // CRC
    ],
  },
  {
    name: '§6.6 write single register 2 = 3',
    frame: { unit: 0x11, pdu: { fc: 0x06, address: 1, value: 3 } },
    bytes: [
      0x11, // unit
      0x06, // fc: write single register
      0x00, 0x01, // register address 1
      0x00, 0x03, // value 3
      0x9a, 0x9b, // CRC
    ],
  },
  {
    name: 'broadcast write single register 0x10 = 0x1234',
    frame: { unit: 0, pdu: { fc: 0x06, address: 0x10, value: 0x1234 } },
    bytes: [
      0x00, // unit 0: broadcast
      0x06, // fc
      0x00, 0x10, // register address 0x0010
      0x12, 0x34, // value 0x1234
      0x84, 0xa9, // CRC
    ],
  },
  {
    name: '§6.12 write multiple registers 2–3',
    frame: { unit: 0x11, pdu: { fc: 0x10, address: 1, values: [0x000a, 0x0102] } },
    bytes: [
      0x11, // unit
      0x10, // fc: write multiple registers
      0x00, 0x01, // starting address 1
      0x00, 0x02, // quantity 2
      0x04, // byte count
      0x00, 0x0a, // register 2
      0x01, 0x02, // register 3
      0xc6, 0xf0, // CRC
    ],
  },
  {
    name: '§6.17 read/write multiple registers',
    frame: {
      unit: 0x11,
      pdu: { fc: 0x17, readAddress: 3, readQuantity: 6, writeAddress: 0x0e, values: [0xff, 0xff, 0xff] },
    },
    bytes: [
      0x11, // unit
      0x17, // fc: read/write multiple registers
      0x00, 0x03, // read starting address 3
      0x00, 0x06, // quantity to read 6
      0x00, 0x0e, // write starting address 0x0E
      0x00, 0x03, // quantity to write 3
      0x06, // write byte count
      0x00, 0xff, // write register 1
      0x00, 0xff, // write register 2
      0x00, 0xff, // write register 3
      0x4b, 0x54, // CRC
    ],
  },
];

export const RESPONSES: Vector<ModbusResponse>[] = [
  {
    name: 'DESIGN: 10 registers from unit 1',
    frame: { unit: 1, pdu: { fc: 0x03, values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] } },
    bytes: [
      0x01, // unit
      0x03, // fc
      0x14, // byte count 20
      0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x05, // registers 1–5
      0x00, 0x06, 0x00, 0x07, 0x00, 0x08, 0x00, 0x09, 0x00, 0x0a, // registers 6–10
      0x8f, 0x16, // CRC
    ],
  },
  {
    name: '§6.3 three holding registers',
    frame: { unit: 0x11, pdu: { fc: 0x03, values: [0x022b, 0x0000, 0x0064] } },
    bytes: [
      0x11, // unit
      0x03, // fc
      0x06, // byte count
      0x02, 0x2b, // register 108 = 555
      0x00, 0x00, // register 109 = 0
      0x00, 0x64, // register 110 = 100
      0xc8, 0xba, // CRC
    ],
  },
  {
    name: '§6.4 one input register',
    frame: { unit: 0x11, pdu: { fc: 0x04, values: [0x000a] } },
    bytes: [
      0x11, // unit
      0x04, // fc
      0x02, // byte count
      0x00, 0x0a, // input register 9 = 10
      0xf8, 0xf4, // CRC
    ],
  },
  {
    name: '§6.6 write single register echo',
    frame: { unit: 0x11, pdu: { fc: 0x06, address: 1, value: 3 } },
    bytes: [
      0x11, // unit
      0x06, // fc
      0x00, 0x01, // register address
      0x00, 0x03, // value
      0x9a, 0x9b, // CRC
    ],
  },
  {
    name: '§6.12 write multiple registers acknowledgement',
    frame: { unit: 0x11, pdu: { fc: 0x10, address: 1, quantity: 2 } },
    bytes: [
      0x11, // unit
      0x10, // fc
      0x00, 0x01, // starting address
      0x00, 0x02, // quantity written
      0x12, 0x98, // CRC
    ],
  },
  {
    name: '§6.17 six registers read',
    frame: { unit: 0x11, pdu: { fc: 0x17, values: [0xfe, 0x0acd, 1, 3, 0x0d, 0xff] } },
    bytes: [
      0x11, // unit
      0x17, // fc
      0x0c, // byte count 12
      0x00, 0xfe, 0x0a, 0xcd, 0x00, 0x01, // registers 4–6
      0x00, 0x03, 0x00, 0x0d, 0x00, 0xff, // registers 7–9
      0x0d, 0x75, // CRC
    ],
  },
  {
    name: '§7 exception 01 illegal function',
    frame: { unit: 0x11, pdu: { fc: 0x03, exception: 0x01 } },
    bytes: [
      0x11, // unit
      0x83, // fc 0x03 | 0x80
      0x01, // exception code
      0x81, 0x35, // CRC
    ],
  },
  {
    name: '§7 exception 02 illegal data address',
    frame: { unit: 0x11, pdu: { fc: 0x03, exception: 0x02 } },
    bytes: [
      0x11, // unit
      0x83, // fc 0x03 | 0x80
      0x02, // exception code
      0xc1, 0x34, // CRC
    ],
  },
  {
    name: '§7 exception 03 illegal data value',
    frame: { unit: 0x11, pdu: { fc: 0x04, exception: 0x03 } },
    bytes: [
      0x11, // unit
      0x84, // fc 0x04 | 0x80
      0x03, // exception code
      0x02, 0xc4, // CRC
    ],
  },
  {
    name: '§7 exception 04 server device failure',
    frame: { unit: 0x11, pdu: { fc: 0x06, exception: 0x04 } },
    bytes: [
      0x11, // unit
      0x86, // fc 0x06 | 0x80
      0x04, // exception code
      0x42, 0x66, // CRC
    ],
  },
  {
    name: '§7 exception 0A gateway path unavailable',
    frame: { unit: 0x11, pdu: { fc: 0x10, exception: 0x0a } },
    bytes: [
      0x11, // unit
      0x90, // fc 0x10 | 0x80
      0x0a, // exception code
      0xcd, 0xc2, // CRC
    ],
  },
  {
    name: '§7 exception 0B gateway target failed to respond',
    frame: { unit: 0x11, pdu: { fc: 0x17, exception: 0x0b } },
    bytes: [
      0x11, // unit
      0x97, // fc 0x17 | 0x80
      0x0b, // exception code
      0x0e, 0x32, // CRC
    ],
  },
];

/** The request each response vector answers (same index), for the master framer. */
export const REQUEST_OF_RESPONSE: RtuFrame<ModbusRequest>[] = [
  { unit: 1, pdu: { fc: 0x03, address: 0, quantity: 10 } },
  { unit: 0x11, pdu: { fc: 0x03, address: 0x6b, quantity: 3 } },
  { unit: 0x11, pdu: { fc: 0x04, address: 8, quantity: 1 } },
  { unit: 0x11, pdu: { fc: 0x06, address: 1, value: 3 } },
  { unit: 0x11, pdu: { fc: 0x10, address: 1, values: [0x000a, 0x0102] } },
  {
    unit: 0x11,
    pdu: { fc: 0x17, readAddress: 3, readQuantity: 6, writeAddress: 0x0e, values: [0xff, 0xff, 0xff] },
  },
  { unit: 0x11, pdu: { fc: 0x03, address: 0, quantity: 1 } },
  { unit: 0x11, pdu: { fc: 0x03, address: 0xfffe, quantity: 2 } },
  { unit: 0x11, pdu: { fc: 0x04, address: 0, quantity: 1 } },
  { unit: 0x11, pdu: { fc: 0x06, address: 0, value: 0 } },
  { unit: 0x11, pdu: { fc: 0x10, address: 0, values: [1] } },
  { unit: 0x11, pdu: { fc: 0x17, readAddress: 0, readQuantity: 1, writeAddress: 0, values: [1] } },
];

export const bytesOf = (v: { bytes: number[] }): Uint8Array => Uint8Array.from(v.bytes);

/** `bytes` followed by their CRC-16/MODBUS, low byte first (a bitwise CRC, independent of the table one). */
export function withCrc(bytes: number[]): Uint8Array {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return Uint8Array.from([...bytes, crc & 0xff, crc >>> 8]);
}
