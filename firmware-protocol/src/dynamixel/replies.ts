/**
 * Status packets that answer one device's instruction: builders for a device (the
 * simulator) and parsers for the master (ROBOTIS Protocol 2.0 e-manual §Ping,
 * §Read). Parsers throw `DXL_BAD_PACKET` when the parameters do not have the
 * length the instruction implies.
 */
import { ProtocolError } from '../errors.ts';
import { encodeStatus, type StatusPacket } from './packet.ts';
import { decodeStatusError, statusToError } from './status-error.ts';
import { assertByte, assertDeviceId, assertU16 } from './validate.ts';

/** Ping status: P1–P2 model number (low byte first), P3 firmware version (e-manual §Ping). */
export function parsePingStatus(p: StatusPacket): { modelNumber: number; firmwareVersion: number } {
  if (p.params.length !== 3) {
    throw new ProtocolError(
      'DXL_BAD_PACKET',
      `ping status of device ${p.id}: ${p.params.length} parameter bytes, not 3`,
    );
  }
  return { modelNumber: p.params[0]! | (p.params[1]! << 8), firmwareVersion: p.params[2]! };
}

/** The status packet a device sends to a Ping (e-manual §Ping). */
export function encodePingStatus(
  id: number,
  modelNumber: number,
  firmwareVersion: number,
  error = 0,
): Uint8Array {
  assertDeviceId(id);
  assertU16(modelNumber, 'model number');
  assertByte(firmwareVersion, 'firmware version');
  return encodeStatus({
    id,
    error,
    params: Uint8Array.of(modelNumber & 0xff, modelNumber >>> 8, firmwareVersion),
  });
}

/**
 * The data of a status packet answering Read, Sync Read or Bulk Read (e-manual
 * §Read: "Parameter 1 … Parameter X"). Throws the packet's `DXL_STATUS_ERROR` when
 * its error number is set (the device then sends no data); an alert bit alone does
 * not stop the data. Throws `DXL_BAD_PACKET` when the data is not `length` bytes.
 * Returns `p.params` itself (a decoded packet's params are already a copy).
 */
export function parseReadStatus(p: StatusPacket, length: number): Uint8Array {
  if (decodeStatusError(p.error).code !== 0) throw statusToError(p)!;
  if (p.params.length !== length) {
    throw new ProtocolError(
      'DXL_BAD_PACKET',
      `read status of device ${p.id}: ${p.params.length} data bytes, not ${length}`,
    );
  }
  return p.params;
}
