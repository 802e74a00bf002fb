/**
 * Modbus TCP framing: the MBAP header `[transaction id u16][protocol id u16 = 0]
 * [length u16 = unit + PDU bytes][unit u8]` then the PDU (Modbus Messaging on TCP/IP
 * Implementation Guide V1.0b §3.1.3). A PDU is 1..253 bytes (Modbus Application Protocol
 * V1.1b3 §4.1), so the length field is 2..254 and an ADU at most 260 bytes.
 */
import { ProtocolError } from '../errors.ts';
import { ByteWindow } from './byte-window.ts';
import { DiscardLog, type FramerStats } from './framer-stats.ts';
import { isU16 } from './limits.ts';

export interface TcpFrame {
  transactionId: number;
  /** Unit identifier: the serial slave behind a gateway, 0xFF or 0 for the server itself. */
  unit: number;
  /** The PDU (function code + data); a copy owned by the caller. */
  pdu: Uint8Array;
}

const MBAP_LENGTH = 7;
const MAX_PDU = 253;
const MAX_TCP_ADU = MBAP_LENGTH + MAX_PDU;

/** MBAP header + PDU. Throws `VALUE_OUT_OF_RANGE` / `FRAME_TOO_LONG` / `MODBUS_BAD_FRAME`. */
export function encodeTcp(transactionId: number, unit: number, pdu: Uint8Array): Uint8Array {
  if (!isU16(transactionId)) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `transaction id ${transactionId} (0..0xFFFF)`);
  }
  if (!Number.isInteger(unit) || unit < 0 || unit > 0xff) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `unit ${unit} (0..0xFF)`);
  }
  if (pdu.length === 0) throw new ProtocolError('MODBUS_BAD_FRAME', 'an empty PDU');
  if (pdu.length > MAX_PDU) {
    throw new ProtocolError('FRAME_TOO_LONG', `a ${pdu.length}-byte PDU (max 253, §4.1)`);
  }
  const out = new Uint8Array(MBAP_LENGTH + pdu.length);
  out[0] = transactionId >>> 8;
  out[1] = transactionId & 0xff;
  // out[2], out[3]: protocol id 0 = Modbus
  out[4] = 0;
  out[5] = pdu.length + 1;
  out[6] = unit;
  out.set(pdu, MBAP_LENGTH);
  return out;
}

/**
 * Splits a TCP byte stream into MBAP frames, however it is chunked. A header with a
 * protocol id other than 0 or a length outside 2..254 is counted (`MBAP_BAD_HEADER`, one
 * event per run) and the framer resynchronises by dropping one byte. TCP itself does not
 * lose bytes, so a bad header means a broken peer: the owner may prefer to close the
 * connection when `stats.discarded.MBAP_BAD_HEADER` grows.
 */
export class TcpFramer {
  /** Live counters (not reset; do not mutate). */
  readonly stats: FramerStats;
  private readonly log = new DiscardLog();
  private readonly window = new ByteWindow(2 * MAX_TCP_ADU);

  constructor() {
    this.stats = this.log.stats;
  }

  /** Returns the frames completed by `chunk`; each `pdu` is a copy. `chunk` is not retained. */
  feed(chunk: Uint8Array): TcpFrame[] {
    const out: TcpFrame[] = [];
    let off = 0;
    while (off < chunk.length) {
      off += this.window.append(chunk, off);
      this.scan(out);
    }
    return out;
  }

  private scan(out: TcpFrame[]): void {
    const window = this.window;
    const b = window.bytes;
    for (;;) {
      const h = window.head;
      const avail = window.tail - h;
      if (avail < 4) return;
      // §3.1.3: protocol identifier 0 = MODBUS protocol
      let bad = b[h + 2] !== 0 || b[h + 3] !== 0;
      if (!bad) {
        if (avail < 6) return;
        // §3.1.3: length = unit identifier + PDU, PDU 1..253 bytes
        const length = (b[h + 4]! << 8) | b[h + 5]!;
        bad = length < 2 || length > MAX_PDU + 1;
        if (!bad) {
          if (avail < 6 + length) return;
          out.push({
            transactionId: (b[h]! << 8) | b[h + 1]!,
            unit: b[h + 6]!,
            pdu: b.slice(h + MBAP_LENGTH, h + 6 + length),
          });
          window.skip(6 + length);
          this.log.frame();
          continue;
        }
      }
      this.log.drop(1, 'MBAP_BAD_HEADER');
      window.skip(1);
    }
  }
}
