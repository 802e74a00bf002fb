/** Options shared by the RTU framers, checked and resolved once at construction. */
import { ProtocolError } from '../errors.ts';
import { MAX_RTU_ADU_LENGTH } from './function-codes.ts';
import { charTimeMs, silenceMs } from './silence.ts';

export interface RtuFramerOptions {
  /** Line speed; with `bitsPerChar` it gives the silence time and each chunk's duration. */
  baud: number;
  /** Bits per character on the wire: 10 for 8N1 (default), 11 for 8E1 / 8N2. */
  bitsPerChar?: number;
  /**
   * Silence that ends a frame, in ms. Default `silenceMs(baud, bitsPerChar)` (Modbus over
   * serial line V1.02 §2.5.1.1). `null` disables the silence rule, for links whose chunk
   * timestamps say nothing about the wire (TCP serial bridges, USB adapters with latency).
   */
  gapMs?: number | null;
  /** Longest frame accepted, 8..256 (default 256, Modbus over serial line V1.02 §2.5.1). */
  maxFrameLength?: number;
}

export interface ResolvedFramerOptions {
  /** Silence in ms, or -1 when the silence rule is off. */
  gapMs: number;
  /** One character's duration in ms. */
  charMs: number;
  maxFrameLength: number;
}

export function resolveFramerOptions(opts: RtuFramerOptions): ResolvedFramerOptions {
  const bitsPerChar = opts.bitsPerChar ?? 10;
  const charMs = charTimeMs(opts.baud, bitsPerChar);
  const gap = opts.gapMs === undefined ? silenceMs(opts.baud, bitsPerChar) : opts.gapMs;
  if (gap !== null && !(gap >= 0 && Number.isFinite(gap))) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `gapMs ${String(gap)} is not a duration`);
  }
  const maxFrameLength = opts.maxFrameLength ?? MAX_RTU_ADU_LENGTH;
  if (!Number.isInteger(maxFrameLength) || maxFrameLength < 8 || maxFrameLength > 256) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `maxFrameLength ${maxFrameLength} is not 8..256`);
  }
  return { gapMs: gap === null ? -1 : gap, charMs, maxFrameLength };
}
