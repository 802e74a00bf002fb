/**
 * The shape of the response one request allows (Modbus Application Protocol V1.1b3 §6):
 * the unit, then either `fc | 0x80` + code (§7, 5 bytes) or `fc` followed by the bytes the
 * request fixes: the byte count 2 × N for 03/04/0x17, the echoed address and value or
 * quantity for 06/0x10. Matching those bytes as they arrive rejects a wrong start early.
 */
import type { ModbusRequest } from './messages.ts';
import { expectedResponseLength } from './rtu.ts';

/** `match` result: these bytes cannot start the expected response. */
export const NO_MATCH = -1;
/** `match` result: more bytes are needed to decide. */
export const NEED_MORE = 0;

export class ResponseExpectation {
  /** Expected unit, or -1 when nothing is expected. */
  unit = -1;
  fc = 0;
  /** Length of the normal response ADU; -1 when only an exception response is expected. */
  normalLength = -1;
  private readonly header = new Uint8Array(6);
  private headerLength = 0;

  /** Expect the response to a valid request `req` sent to `unit`. */
  setFor(unit: number, req: ModbusRequest): void {
    const h = this.header;
    this.unit = unit;
    this.fc = req.fc;
    this.normalLength = expectedResponseLength(req);
    h[0] = unit;
    h[1] = req.fc;
    if (req.fc === 0x06 || req.fc === 0x10) {
      const word = req.fc === 0x06 ? req.value : req.values.length;
      h[2] = req.address >>> 8;
      h[3] = req.address & 0xff;
      h[4] = word >>> 8;
      h[5] = word & 0xff;
      this.headerLength = 6;
    } else {
      h[2] = this.normalLength - 5; // byte count
      this.headerLength = 3;
    }
  }

  /** Expect only an exception response (§7) from `unit` to function `fc`. */
  setException(unit: number, fc: number): void {
    this.unit = unit;
    this.fc = fc;
    this.normalLength = -1;
    this.headerLength = 2;
  }

  clear(): void {
    this.unit = -1;
  }

  /** The length of the response starting at `b[h]` (`avail` bytes there), or a constant above. */
  match(b: Uint8Array, h: number, avail: number): number {
    if (b[h] !== this.unit) return NO_MATCH;
    if (avail < 2) return NEED_MORE;
    const fc = b[h + 1]!;
    if (fc === (this.fc | 0x80)) return 5; // §7: unit, fc | 0x80, code, CRC
    if (fc !== this.fc || this.normalLength < 0) return NO_MATCH;
    const header = this.header;
    for (let i = 2; i < this.headerLength; i++) {
      if (i >= avail) return NEED_MORE;
      if (b[h + i] !== header[i]) return NO_MATCH;
    }
    return this.normalLength;
  }
}
