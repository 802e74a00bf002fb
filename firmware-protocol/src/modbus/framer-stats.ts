/**
 * What a framer kept and what it dropped. Drops are counted as events: one per contiguous
 * run of dropped bytes, under the reason of the run's first byte (a corrupted frame is one
 * `MODBUS_CRC`, not one CRC plus twenty garbage bytes); a run ends at the next good frame,
 * at a silence, when the framer is re-armed, or where a recognised frame (a response
 * nobody asked for) starts its own event.
 */
import type { ProtocolErrorCode } from '../errors.ts';

export interface FramerStats {
  /** Frames returned. */
  frames: number;
  /** Bytes dropped, whatever the reason. */
  discardedBytes: number;
  /** Drop events by reason. */
  discarded: Partial<Record<ProtocolErrorCode, number>>;
}

export class DiscardLog {
  private inRun = false;

  /** `stats`: the live counters this log updates, read by the framer's owner; never reset. */
  constructor(readonly stats: FramerStats = { frames: 0, discardedBytes: 0, discarded: {} }) {}

  /** `n` bytes dropped as part of the current run (or starting one, counted as `reason`). */
  drop(n: number, reason: ProtocolErrorCode): void {
    this.stats.discardedBytes += n;
    if (!this.inRun) {
      this.inRun = true;
      this.count(reason);
    }
  }

  /** A frame was returned. */
  frame(): void {
    this.stats.frames++;
    this.inRun = false;
  }

  endRun(): void {
    this.inRun = false;
  }

  private count(reason: ProtocolErrorCode): void {
    const d = this.stats.discarded;
    d[reason] = (d[reason] ?? 0) + 1;
  }
}
