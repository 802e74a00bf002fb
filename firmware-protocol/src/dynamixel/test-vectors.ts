/**
 * Test fixtures (used only by the `*.test.ts` files of this folder): packets with
 * their wire bytes annotated field by field. "e-manual" vectors are copied from the
 * examples of the ROBOTIS Protocol 2.0 e-manual (§Instruction Details); the others
 * are built here and their CRC computed by `crc16Dynamixel`, which the e-manual
 * vectors check.
 */
import type { Packet } from './packet.ts';

/** One field of a packet on the wire: its bytes in hex and what they are. */
export type Field = readonly [hex: string, meaning: string];

export interface Vector {
  name: string;
  wire: readonly Field[];
  packet: Packet;
}

export function bytesOf(wire: readonly Field[]): Uint8Array {
  const out: number[] = [];
  for (const [hex] of wire) for (const b of hex.split(' ')) out.push(Number.parseInt(b, 16));
  return Uint8Array.from(out);
}

export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.split(' ').map((b) => Number.parseInt(b, 16)));
}

const H: Field = ['FF FF FD 00', 'header FF FF FD, reserved 00'];

function ins(id: number, instruction: number, params: number[]): Packet {
  return { kind: 'instruction', id, instruction, params: Uint8Array.from(params) };
}

function st(id: number, error: number, params: number[]): Packet {
  return { kind: 'status', id, error, params: Uint8Array.from(params) };
}

export const INSTRUCTION_VECTORS: readonly Vector[] = [
  {
    name: 'e-manual §Ping example 1: ping ID 1 (DESIGN: CRC bytes 19 4E)',
    wire: [H, ['01', 'ID 1'], ['03 00', 'LEN 3'], ['01', 'INST Ping'], ['19 4E', 'CRC']],
    packet: ins(1, 0x01, []),
  },
  {
    name: 'e-manual §Ping example 2: broadcast ping',
    wire: [H, ['FE', 'ID broadcast'], ['03 00', 'LEN 3'], ['01', 'INST Ping'], ['31 42', 'CRC']],
    packet: ins(0xfe, 0x01, []),
  },
  {
    name: 'e-manual §Read: ID 1, Present Position (132, 4 bytes)',
    wire: [
      H,
      ['01', 'ID 1'],
      ['07 00', 'LEN 7'],
      ['02', 'INST Read'],
      ['84 00', 'address 132'],
      ['04 00', 'length 4'],
      ['1D 15', 'CRC'],
    ],
    packet: ins(1, 0x02, [0x84, 0x00, 0x04, 0x00]),
  },
  {
    name: 'e-manual §Write: ID 1, Goal Position (116) = 512',
    wire: [
      H,
      ['01', 'ID 1'],
      ['09 00', 'LEN 9'],
      ['03', 'INST Write'],
      ['74 00', 'address 116'],
      ['00 02 00 00', 'data 512'],
      ['CA 89', 'CRC'],
    ],
    packet: ins(1, 0x03, [0x74, 0x00, 0x00, 0x02, 0x00, 0x00]),
  },
  {
    name: 'e-manual §Reg Write: ID 1, Goal Velocity (104) = 200',
    wire: [
      H,
      ['01', 'ID 1'],
      ['09 00', 'LEN 9'],
      ['04', 'INST Reg Write'],
      ['68 00', 'address 104'],
      ['C8 00 00 00', 'data 200'],
      ['AE 8E', 'CRC'],
    ],
    packet: ins(1, 0x04, [0x68, 0x00, 0xc8, 0x00, 0x00, 0x00]),
  },
  {
    name: 'e-manual §Action: ID 1',
    wire: [H, ['01', 'ID 1'], ['03 00', 'LEN 3'], ['05', 'INST Action'], ['02 CE', 'CRC']],
    packet: ins(1, 0x05, []),
  },
  {
    name: 'e-manual §Factory Reset: ID 1, reset all except ID',
    wire: [
      H,
      ['01', 'ID 1'],
      ['04 00', 'LEN 4'],
      ['06', 'INST Factory Reset'],
      ['01', 'option 0x01'],
      ['A1 E6', 'CRC'],
    ],
    packet: ins(1, 0x06, [0x01]),
  },
  {
    name: 'e-manual §Reboot: ID 1',
    wire: [H, ['01', 'ID 1'], ['03 00', 'LEN 3'], ['08', 'INST Reboot'], ['2F 4E', 'CRC']],
    packet: ins(1, 0x08, []),
  },
  {
    name: 'e-manual §Clear: ID 1, multi-turn',
    wire: [
      H,
      ['01', 'ID 1'],
      ['08 00', 'LEN 8'],
      ['10', 'INST Clear'],
      ['01', 'P1: clear multi-turn'],
      ['44 58 4C 22', 'fixed P2–P5'],
      ['B1 DC', 'CRC'],
    ],
    packet: ins(1, 0x10, [0x01, 0x44, 0x58, 0x4c, 0x22]),
  },
  {
    name: 'e-manual §Sync Read: IDs 1, 2, Present Position (132, 4 bytes)',
    wire: [
      H,
      ['FE', 'ID broadcast'],
      ['09 00', 'LEN 9'],
      ['82', 'INST Sync Read'],
      ['84 00', 'address 132'],
      ['04 00', 'length 4'],
      ['01 02', 'IDs 1, 2'],
      ['CE FA', 'CRC'],
    ],
    packet: ins(0xfe, 0x82, [0x84, 0x00, 0x04, 0x00, 0x01, 0x02]),
  },
  {
    name: 'e-manual §Sync Write: Goal Position (116) ID 1 = 150, ID 2 = 170',
    wire: [
      H,
      ['FE', 'ID broadcast'],
      ['11 00', 'LEN 17'],
      ['83', 'INST Sync Write'],
      ['74 00', 'address 116'],
      ['04 00', 'length 4'],
      ['01', 'ID 1'],
      ['96 00 00 00', 'data 150'],
      ['02', 'ID 2'],
      ['AA 00 00 00', 'data 170'],
      ['82 87', 'CRC'],
    ],
    packet: ins(0xfe, 0x83, [0x74, 0, 4, 0, 1, 0x96, 0, 0, 0, 2, 0xaa, 0, 0, 0]),
  },
  {
    name: 'e-manual §Bulk Read: ID 1 voltage (144, 2), ID 2 temperature (146, 1)',
    wire: [
      H,
      ['FE', 'ID broadcast'],
      ['0D 00', 'LEN 13'],
      ['92', 'INST Bulk Read'],
      ['01', 'ID 1'],
      ['90 00', 'address 144'],
      ['02 00', 'length 2'],
      ['02', 'ID 2'],
      ['92 00', 'address 146'],
      ['01 00', 'length 1'],
      ['1A 05', 'CRC'],
    ],
    packet: ins(0xfe, 0x92, [1, 0x90, 0, 2, 0, 2, 0x92, 0, 1, 0]),
  },
  {
    name: 'e-manual §Bulk Write: ID 1 Max Voltage Limit (32) = 160, ID 2 Temperature Limit (31) = 80',
    wire: [
      H,
      ['FE', 'ID broadcast'],
      ['10 00', 'LEN 16'],
      ['93', 'INST Bulk Write'],
      ['01', 'ID 1'],
      ['20 00', 'address 32'],
      ['02 00', 'length 2'],
      ['A0 00', 'data 160'],
      ['02', 'ID 2'],
      ['1F 00', 'address 31'],
      ['01 00', 'length 1'],
      ['50', 'data 80'],
      ['B7 68', 'CRC'],
    ],
    packet: ins(0xfe, 0x93, [1, 0x20, 0, 2, 0, 0xa0, 0, 2, 0x1f, 0, 1, 0, 0x50]),
  },
  {
    name: 'Fast Sync Read: IDs 3, 7, Present Position (132, 4 bytes)',
    wire: [
      H,
      ['FE', 'ID broadcast'],
      ['09 00', 'LEN 9'],
      ['8A', 'INST Fast Sync Read'],
      ['84 00', 'address 132'],
      ['04 00', 'length 4'],
      ['03 07', 'IDs 3, 7'],
      ['50 FE', 'CRC (computed)'],
    ],
    packet: ins(0xfe, 0x8a, [0x84, 0x00, 0x04, 0x00, 0x03, 0x07]),
  },
  {
    name: 'Fast Bulk Read: ID 1 (144, 2), ID 2 (146, 1)',
    wire: [
      H,
      ['FE', 'ID broadcast'],
      ['0D 00', 'LEN 13'],
      ['9A', 'INST Fast Bulk Read'],
      ['01', 'ID 1'],
      ['90 00', 'address 144'],
      ['02 00', 'length 2'],
      ['02', 'ID 2'],
      ['92 00', 'address 146'],
      ['01 00', 'length 1'],
      ['19 2F', 'CRC (computed)'],
    ],
    packet: ins(0xfe, 0x9a, [1, 0x90, 0, 2, 0, 2, 0x92, 0, 1, 0]),
  },
  {
    name: 'stuffed: Write ID 1, address 116, data FF FF FD 7F',
    wire: [
      H,
      ['01', 'ID 1'],
      ['0A 00', 'LEN 10: counts the stuffing byte'],
      ['03', 'INST Write'],
      ['74 00', 'address 116'],
      ['FF FF FD', 'data FF FF FD …'],
      ['FD', 'stuffing byte'],
      ['7F', '… data 7F'],
      ['20 66', 'CRC over the stuffed packet (computed)'],
    ],
    packet: ins(1, 0x03, [0x74, 0x00, 0xff, 0xff, 0xfd, 0x7f]),
  },
];

export const STATUS_VECTORS: readonly Vector[] = [
  {
    name: 'e-manual §Ping: status of ID 1 (XM430-W210, model 1030, firmware 38)',
    wire: [
      H,
      ['01', 'ID 1'],
      ['07 00', 'LEN 7'],
      ['55', 'INST Status'],
      ['00', 'error: none'],
      ['06 04', 'model number 1030'],
      ['26', 'firmware 38'],
      ['65 5D', 'CRC'],
    ],
    packet: st(1, 0, [0x06, 0x04, 0x26]),
  },
  {
    name: 'e-manual §Ping example 2: status of ID 2',
    wire: [
      H,
      ['02', 'ID 2'],
      ['07 00', 'LEN 7'],
      ['55', 'INST Status'],
      ['00', 'error: none'],
      ['06 04', 'model number 1030'],
      ['26', 'firmware 38'],
      ['6F 6D', 'CRC'],
    ],
    packet: st(2, 0, [0x06, 0x04, 0x26]),
  },
  {
    name: 'e-manual §Read / §Sync Read: status of ID 1, Present Position 166',
    wire: [
      H,
      ['01', 'ID 1'],
      ['08 00', 'LEN 8'],
      ['55', 'INST Status'],
      ['00', 'error: none'],
      ['A6 00 00 00', 'data 166'],
      ['8C C0', 'CRC'],
    ],
    packet: st(1, 0, [0xa6, 0, 0, 0]),
  },
  {
    name: 'e-manual §Sync Read: status of ID 2, Present Position 2079',
    wire: [
      H,
      ['02', 'ID 2'],
      ['08 00', 'LEN 8'],
      ['55', 'INST Status'],
      ['00', 'error: none'],
      ['1F 08 00 00', 'data 2079'],
      ['BA BE', 'CRC'],
    ],
    packet: st(2, 0, [0x1f, 0x08, 0, 0]),
  },
  {
    name: 'e-manual §Write (and Reg Write, Action, …): status of ID 1, no data',
    wire: [
      H,
      ['01', 'ID 1'],
      ['04 00', 'LEN 4'],
      ['55', 'INST Status'],
      ['00', 'error: none'],
      ['A1 0C', 'CRC'],
    ],
    packet: st(1, 0, []),
  },
  {
    name: 'e-manual §Bulk Read: status of ID 1, voltage 119',
    wire: [
      H,
      ['01', 'ID 1'],
      ['06 00', 'LEN 6'],
      ['55', 'INST Status'],
      ['00', 'error: none'],
      ['77 00', 'data 119'],
      ['C3 69', 'CRC'],
    ],
    packet: st(1, 0, [0x77, 0x00]),
  },
  {
    name: 'e-manual §Bulk Read: status of ID 2, temperature 36',
    wire: [
      H,
      ['02', 'ID 2'],
      ['05 00', 'LEN 5'],
      ['55', 'INST Status'],
      ['00', 'error: none'],
      ['24', 'data 36'],
      ['8B A9', 'CRC'],
    ],
    packet: st(2, 0, [0x24]),
  },
  {
    name: 'status of ID 1 with Access Error (7)',
    wire: [
      H,
      ['01', 'ID 1'],
      ['04 00', 'LEN 4'],
      ['55', 'INST Status'],
      ['07', 'error: access error'],
      ['B0 8C', 'CRC (computed)'],
    ],
    packet: st(1, 0x07, []),
  },
  {
    name: 'status of ID 1 with the alert bit only',
    wire: [
      H,
      ['01', 'ID 1'],
      ['04 00', 'LEN 4'],
      ['55', 'INST Status'],
      ['80', 'error: alert'],
      ['A2 8F', 'CRC (computed)'],
    ],
    packet: st(1, 0x80, []),
  },
  {
    name: 'stuffed: read status of ID 1 whose data is FF FF FD 00 (a header inside data)',
    wire: [
      H,
      ['01', 'ID 1'],
      ['09 00', 'LEN 9: counts the stuffing byte'],
      ['55', 'INST Status'],
      ['00', 'error: none'],
      ['FF FF FD', 'data FF FF FD …'],
      ['FD', 'stuffing byte'],
      ['00', '… data 00'],
      ['D8 9C', 'CRC over the stuffed packet (computed)'],
    ],
    packet: st(1, 0, [0xff, 0xff, 0xfd, 0x00]),
  },
  {
    name: 'Fast Sync Read reply: ID 3 = 166, ID 7 = 2079 (one packet, ID 0xFE)',
    wire: [
      H,
      ['FE', 'ID broadcast'],
      ['11 00', 'LEN 17 = 1 + 2 × (4 + 4)'],
      ['55', 'INST Status'],
      ['00', 'ERR of ID 3 (the status error byte)'],
      ['03', 'ID 3'],
      ['A6 00 00 00', 'data of ID 3: 166'],
      ['87 BB', 'CRC of the packet up to here (computed)'],
      ['00', 'ERR of ID 7'],
      ['07', 'ID 7'],
      ['1F 08 00 00', 'data of ID 7: 2079'],
      ['8C 72', 'CRC of the whole packet = the packet CRC (computed)'],
    ],
    packet: st(0xfe, 0, [0x03, 0xa6, 0, 0, 0, 0x87, 0xbb, 0x00, 0x07, 0x1f, 0x08, 0, 0]),
  },
  {
    name: 'Fast Bulk Read reply: ID 1 = 119 (2 bytes), ID 2 = 36 (1 byte, alert)',
    wire: [
      H,
      ['FE', 'ID broadcast'],
      ['0C 00', 'LEN 12 = 1 + (4 + 2) + (4 + 1)'],
      ['55', 'INST Status'],
      ['00', 'ERR of ID 1'],
      ['01', 'ID 1'],
      ['77 00', 'data of ID 1: 119'],
      ['48 0E', 'CRC up to here (computed)'],
      ['80', 'ERR of ID 2: alert'],
      ['02', 'ID 2'],
      ['24', 'data of ID 2: 36'],
      ['D6 61', 'packet CRC (computed)'],
    ],
    packet: st(0xfe, 0, [0x01, 0x77, 0x00, 0x48, 0x0e, 0x80, 0x02, 0x24]),
  },
];

export const ALL_VECTORS: readonly Vector[] = [...INSTRUCTION_VECTORS, ...STATUS_VECTORS];
