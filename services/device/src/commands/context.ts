/**
 * What a command sequence may use: the bus (reads and writes of named objects, in
 * order, one transaction at a time), the latest polled view, a way to wait for a
 * later poll that satisfies a condition, the clock, and an abort signal (a stop or a
 * newer motion command ends the wait).
 */
import type { profiles } from '../../../../firmware-protocol/src/index.ts';
import type { Clock } from '../../../runtime/src/index.ts';
import type { DriveKind, NormalState } from '../drive/drive-view.ts';

export interface BusPort {
  write(
    driveId: string,
    values: [name: string, value: number][],
    opts?: { priority?: 'high' | 'normal'; deadlineWallMs?: number; signal?: AbortSignal },
  ): Promise<void>;
  read(
    driveId: string,
    names: string[],
    opts?: { priority?: 'high' | 'normal'; deadlineWallMs?: number; signal?: AbortSignal },
  ): Promise<Record<string, number>>;
}

export interface Poll {
  values: Readonly<Record<string, number>>;
  state: NormalState;
  /** Wall-clock ms when the poll's answer arrived. */
  at: number;
}

export interface Limits {
  position?: readonly [number, number] | undefined;
  velocity?: number | undefined;
  acceleration?: number | undefined;
}

export interface CommandContext {
  driveId: string;
  kind: DriveKind;
  profile: profiles.DriveProfile;
  limits: Limits;
  bus: BusPort;
  clock: Clock;
  /** The latest poll, if any. */
  latest(): Poll | undefined;
  /**
   * Resolves with the first poll that arrives after `afterWallMs` and satisfies `ok`;
   * undefined after `timeoutMs` or when `signal` aborts.
   */
  waitForPoll(
    ok: (p: Poll) => boolean,
    afterWallMs: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<Poll | undefined>;
}
