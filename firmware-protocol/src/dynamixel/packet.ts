/**
 * Instruction and status packets of Dynamixel Protocol 2.0 (ROBOTIS Protocol 2.0
 * e-manual §Instruction Packet, §Status Packet):
 *
 * ```
 * FF FF FD 00 | ID | LEN_L LEN_H | INST | (ERR) | PARAM … | CRC_L CRC_H
 * ```
 *
 * LEN counts INST, ERR (status only), the stuffed parameters and the CRC; the CRC
 * (poly 0x8005, init 0) covers everything from the first header byte to the last
 * stuffed parameter. Packets hold unstuffed parameters; encoders stuff them and
 * decoders unstuff them.
 *
 * One exception, from DynamixelSDK: the reply to Fast Sync Read / Fast Bulk Read is
 * a status packet with the broadcast ID 0xFE whose body is *not* stuffed (the SDK
 * reads it with `rxPacket(port, fast_option=True)`, which skips `removeStuffing`).
 * A regular status packet never carries ID 0xFE, so `encodeStatus` and
 * `decodePacket` leave the body of a status packet with ID 0xFE as it is.
 */
import { crc16Dynamixel } from '../crc/crc16-dynamixel.ts';
import { ProtocolError } from '../errors.ts';
import {
  BROADCAST_ID,
  HEADER_0,
  HEADER_1,
  HEADER_2,
  HEADER_LENGTH,
  Instruction,
  MAX_LENGTH_FIELD,
  MIN_STATUS_LENGTH_FIELD,
  RESERVED,
} from './instructions.ts';
import { stuffingCount, unstuffRange, writeStuffed } from './stuffing.ts';
import { assertByte, assertPacketId } from './validate.ts';

export interface InstructionPacket {
  id: number;
  instruction: number;
  params: Uint8Array;
}

export interface StatusPacket {
  id: number;
  /** The raw status error byte: bit 7 alert, bits 0–6 error number (see `decodeStatusError`). */
  error: number;
  params: Uint8Array;
}

export type Packet =
  | ({ kind: 'instruction' } & InstructionPacket)
  | ({ kind: 'status' } & StatusPacket);

/** Smallest packet on the wire: header, reserved, ID, LEN (7) + INST + CRC (2). */
export const MIN_PACKET_LENGTH = 10;

/** Encodes an instruction packet; the parameters are byte-stuffed. Returns a new array. */
export function encodeInstruction(p: InstructionPacket): Uint8Array {
  assertPacketId(p.id);
  assertByte(p.instruction, 'instruction');
  if (p.instruction === Instruction.Status) {
    throw new ProtocolError(
      'VALUE_OUT_OF_RANGE',
      'instruction 0x55 is the status packet marker: use encodeStatus',
    );
  }
  const body = new Uint8Array(1 + p.params.length);
  body[0] = p.instruction;
  body.set(p.params, 1);
  return encodeBody(p.id, body, true);
}

/**
 * Encodes a status packet (instruction 0x55, then the error byte); the error byte
 * and the parameters are byte-stuffed, except with ID 0xFE (a fast read reply, see
 * the file comment). Returns a new array.
 */
export function encodeStatus(p: StatusPacket): Uint8Array {
  assertPacketId(p.id);
  assertByte(p.error, 'status error byte');
  const body = new Uint8Array(2 + p.params.length);
  body[0] = Instruction.Status;
  body[1] = p.error;
  body.set(p.params, 2);
  return encodeBody(p.id, body, p.id !== BROADCAST_ID);
}

function encodeBody(id: number, body: Uint8Array, stuffBody: boolean): Uint8Array {
  // e-manual §Packet Process, transmission: 1. stuff, 2. LEN of the stuffed packet, 3. CRC of it
  const bodyLength = body.length + (stuffBody ? stuffingCount(body) : 0);
  const len = bodyLength + 2;
  if (len > MAX_LENGTH_FIELD) {
    throw new ProtocolError(
      'FRAME_TOO_LONG',
      `packet LEN ${len} exceeds the 16-bit length field (${MAX_LENGTH_FIELD})`,
    );
  }
  const out = new Uint8Array(HEADER_LENGTH + len);
  out[0] = HEADER_0;
  out[1] = HEADER_1;
  out[2] = HEADER_2;
  out[3] = RESERVED;
  out[4] = id;
  out[5] = len & 0xff;
  out[6] = len >>> 8;
  let end: number;
  if (stuffBody) {
    end = writeStuffed(body, out, HEADER_LENGTH);
  } else {
    out.set(body, HEADER_LENGTH);
    end = HEADER_LENGTH + body.length;
  }
  const crc = crc16Dynamixel(out, 0, end);
  // e-manual §CRC: low byte first
  out[end] = crc & 0xff;
  out[end + 1] = crc >>> 8;
  return out;
}

/**
 * Decodes exactly one whole packet. Checks the header `FF FF FD`, the reserved
 * byte, that LEN matches the byte count, the CRC, the ID, and unstuffs. Throws
 * `ProtocolError` (`DXL_BAD_PACKET`, `DXL_CRC`). The returned parameters are a
 * copy: they never alias `bytes`.
 */
export function decodePacket(bytes: Uint8Array): Packet {
  if (bytes.length < MIN_PACKET_LENGTH) {
    throw new ProtocolError(
      'DXL_BAD_PACKET',
      `packet of ${bytes.length} bytes is shorter than the minimum ${MIN_PACKET_LENGTH}`,
    );
  }
  // e-manual §Header: FF FF FD; §Reserved: 0x00 (never 0xFD, which would be stuffing)
  if (bytes[0] !== HEADER_0 || bytes[1] !== HEADER_1 || bytes[2] !== HEADER_2) {
    throw new ProtocolError('DXL_BAD_PACKET', 'packet does not start with the header FF FF FD');
  }
  if (bytes[3] !== RESERVED) {
    throw new ProtocolError('DXL_BAD_PACKET', `reserved byte is 0x${hex(bytes[3]!)}, not 0x00`);
  }
  // e-manual §Length: LEN counts instruction, parameters and CRC
  const len = bytes[5]! | (bytes[6]! << 8);
  if (len !== bytes.length - HEADER_LENGTH) {
    throw new ProtocolError(
      'DXL_BAD_PACKET',
      `LEN ${len} does not match the ${bytes.length - HEADER_LENGTH} bytes after it`,
    );
  }
  // e-manual §CRC: CRC-16 of the (stuffed) packet up to the last parameter
  const end = bytes.length - 2;
  const crc = crc16Dynamixel(bytes, 0, end);
  const wire = bytes[end]! | (bytes[end + 1]! << 8);
  if (crc !== wire) {
    throw new ProtocolError(
      'DXL_CRC',
      `CRC 0x${hex(wire, 4)} on the wire, 0x${hex(crc, 4)} computed`,
    );
  }
  return decodeVerified(bytes, 0, len);
}

/**
 * Decodes the packet at `buf[start]` whose header, LEN (≥ 3, fully present) and
 * CRC were already checked: ID, status/instruction split, unstuffing. Internal to
 * this folder (the framer shares it); the result never aliases `buf`.
 */
export function decodeVerified(buf: Uint8Array, start: number, len: number): Packet {
  const id = buf[start + 4]!;
  // e-manual §Packet ID: 0xFD and 0xFF are never used, to avoid confusion with the header
  if (id > BROADCAST_ID || id === 0xfd) {
    throw new ProtocolError('DXL_BAD_PACKET', `packet ID 0x${hex(id)} is not used by the protocol`);
  }
  const bodyStart = start + HEADER_LENGTH;
  const bodyEnd = bodyStart + len - 2;
  const instruction = buf[bodyStart]!;
  if (instruction === Instruction.Status) {
    // e-manual §Status Packet: INST 0x55, then the error byte
    if (len < MIN_STATUS_LENGTH_FIELD) {
      throw new ProtocolError('DXL_BAD_PACKET', 'status packet without an error byte');
    }
    const error = buf[bodyStart + 1]!;
    const params =
      id === BROADCAST_ID
        ? buf.slice(bodyStart + 2, bodyEnd) // fast read reply: not stuffed (file comment)
        : unstuffRange(buf, bodyStart, bodyEnd, 2);
    return { kind: 'status', id, error, params };
  }
  const params = unstuffRange(buf, bodyStart, bodyEnd, 1);
  return { kind: 'instruction', id, instruction, params };
}

function hex(n: number, digits = 2): string {
  return n.toString(16).toUpperCase().padStart(digits, '0');
}
