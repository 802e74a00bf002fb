/**
 * RTU frame delimiting by silence (Modbus over serial line V1.02 §2.5.1.1): a frame ends
 * after 3.5 character times without a byte; above 19200 baud the spec fixes it at 1.75 ms.
 */
import { ProtocolError } from '../errors.ts';

/** One character on the wire (start, data, parity, stop bits), in ms. */
export function charTimeMs(baud: number, bitsPerChar = 10): number {
  if (!(baud > 0) || !Number.isFinite(baud)) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `baud ${String(baud)} is not a positive rate`);
  }
  if (!(bitsPerChar > 0) || !Number.isFinite(bitsPerChar)) {
    throw new ProtocolError(
      'VALUE_OUT_OF_RANGE',
      `bitsPerChar ${String(bitsPerChar)} is not positive`,
    );
  }
  return (1000 * bitsPerChar) / baud;
}

/**
 * t3.5 in ms: 3.5 character times, fixed at 1.75 ms above 19200 baud (Modbus over serial
 * line V1.02 §2.5.1.1). `bitsPerChar` is 10 for 8N1 (the spec's 11 assumes parity or two
 * stop bits).
 */
export function silenceMs(baud: number, bitsPerChar = 10): number {
  const charMs = charTimeMs(baud, bitsPerChar);
  return baud > 19200 ? 1.75 : 3.5 * charMs;
}
