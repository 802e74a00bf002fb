/**
 * How long a transaction may take on this line: derived from the baud rate and the
 * bytes both ways, never a fixed 5 s (modbus-serial has no timeout at all by default;
 * DESIGN.md "What the anchors get wrong").
 *
 *   timeout = latency allowance (the transport: USB adapter, TCP bridge)
 *           + (request + response bytes) × character time
 *           + the silences that delimit the frames (Modbus RTU only)
 *           + the slave's turnaround, once per reply packet
 *           + slack: 1 ms + 2 character times + 10 % of the wire time
 */
import { modbus } from '../../../../firmware-protocol/src/index.ts';

export interface LineTiming {
  baud: number;
  /** 10 for 8N1, 11 with parity. */
  bitsPerChar: number;
  /** What the transport adds to every exchange, ms. */
  latencyMs: number;
}

/** One character on the wire, ms. */
export function charMs(line: LineTiming): number {
  return (1000 * line.bitsPerChar) / line.baud;
}

function slackMs(line: LineTiming, wireMs: number): number {
  return 1 + 2 * charMs(line) + 0.1 * wireMs;
}

/**
 * Modbus RTU: a request, t3.5, the turnaround, the response, t3.5 (Modbus over serial
 * line V1.02 §2.5.1.1: each frame is preceded and followed by 3.5 character times of
 * silence; 1.75 ms above 19200 baud).
 */
export function modbusTimeoutMs(
  line: LineTiming,
  requestBytes: number,
  responseBytes: number,
  turnaroundMs: number,
): number {
  const wire = (requestBytes + responseBytes) * charMs(line);
  const silences = 2 * modbus.silenceMs(line.baud, line.bitsPerChar);
  return line.latencyMs + wire + silences + turnaroundMs + slackMs(line, wire);
}

/**
 * Dynamixel 2.0: the instruction, then the status packets, each after its device's
 * return delay (a group read is answered by one device after another, ROBOTIS
 * e-manual §Sync Read): `turnaroundMs` is the sum of those delays.
 */
export function dynamixelTimeoutMs(
  line: LineTiming,
  requestBytes: number,
  replyBytes: readonly number[],
  turnaroundMs: number,
): number {
  let bytes = requestBytes;
  for (const n of replyBytes) bytes += n;
  const wire = bytes * charMs(line);
  return line.latencyMs + wire + turnaroundMs + slackMs(line, wire);
}

/**
 * After a timeout the line must go quiet before the next request, or a late reply to
 * the abandoned request could be taken for the answer to the next one (see the
 * RtuMasterFramer file comment): the frame silence, two more characters, and the
 * transport's latency.
 */
export function quietAfterTimeoutMs(line: LineTiming): number {
  return modbus.silenceMs(line.baud, line.bitsPerChar) + 2 * charMs(line) + line.latencyMs;
}

/** Dynamixel status packet size for `params` parameter bytes, stuffing allowance included. */
export function dynamixelStatusBytes(params: number): number {
  // FF FF FD 00 | ID | LEN L H | 0x55 | ERR | params | CRC L H; stuffing adds ≤ 1 per 3 bytes
  return 11 + params + Math.ceil(params / 3);
}
