/**
 * Commands the controller sends outside the saga, to several drives at once: enable and
 * resetFault (at start, rejoin, reset), stop (the end of a safe stop), quickStop (the
 * emergency stop). Each gets a fresh commandId `{line}-{type}-{tag}-{drive}`: they are
 * not resumed after a restart, and each must run, so none may match an older one.
 * A drive already enabled (per its retained state) is not sent `enable`; only a
 * faulted one is sent `resetFault`.
 */
import { randomUUID } from 'node:crypto';
import type { Command, ContractError } from '../../../contract/src/index.ts';
import type { DrivePort, Final } from '../drives/drive-link.ts';

export interface SendEachOptions {
  link: DrivePort;
  lineId: string;
  timeoutMs: number;
  /** Send even to a drive seen down, and wait for its answer (quickStop). */
  evenIfDown?: boolean;
  /** One more try, under a new id, after a TIMEOUT from the drive (only for commands safe to repeat). */
  retryTimeout?: boolean;
  /** Each drive's answer as it comes, before all are in. */
  onEach?: ((s: Sent) => void) | undefined;
}

export interface Sent {
  driveId: string;
  commandId: string;
  final: Final;
}

/**
 * Send `type` to every drive at once: each publish goes out before the first answer is
 * awaited, none waits for another.
 */
export function sendEach(
  o: SendEachOptions,
  drives: readonly string[],
  type: 'enable' | 'resetFault' | 'stop' | 'quickStop',
  extra: object = {},
): Promise<Sent[]> {
  const tag = randomUUID().slice(0, 8);
  const once = (d: string, n: number) => {
    const commandId = `${o.lineId}-${type}-${tag}-${d}${n > 0 ? `-r${n}` : ''}`;
    const command = { commandId, type, ...extra } as Command;
    return o.link
      .send(d, command, { timeoutMs: o.timeoutMs, failWhenDown: !o.evenIfDown })
      .then((final) => ({ driveId: d, commandId, final }));
  };
  return Promise.all(
    drives.map(async (d) => {
      const first = await once(d, 0);
      const lost = first.final.source === 'drive' && first.final.error?.code === 'TIMEOUT';
      const sent = lost && o.retryTimeout ? await once(d, 1) : first;
      o.onEach?.(sent);
      return sent;
    }),
  );
}

/** The drives whose command did not complete, with why. */
export function failures(sent: readonly Sent[]): { driveId: string; error: ContractError }[] {
  return sent.flatMap((s) =>
    s.final.status === 'completed'
      ? []
      : [
          {
            driveId: s.driveId,
            error: s.final.error ?? { code: 'INTERNAL' as const, message: s.final.status },
          },
        ],
  );
}

/** The line's drives as a group. */
export class LineDrives {
  readonly #o: SendEachOptions;
  readonly #all: readonly string[];

  constructor(link: DrivePort, lineId: string, drives: readonly string[], timeoutMs = 5000) {
    this.#o = { link, lineId, timeoutMs };
    this.#all = drives;
  }

  /** `stop` to every drive of the line (the end of a safe stop). */
  stopAll(): Promise<Sent[]> {
    return sendEach(this.#o, this.#all, 'stop');
  }

  /** `quickStop` to every drive, even those seen down (their DRIVE_UNREACHABLE is reported). */
  /** `onEach`: each drive's answer as it comes. */
  quickStopAll(onEach?: (s: Sent) => void): Promise<Sent[]> {
    return sendEach({ ...this.#o, evenIfDown: true, onEach }, this.#all, 'quickStop');
  }

  /** Enable those of `drives` not enabled yet; the ones that failed, with why. */
  async enable(drives: readonly string[], resetFault: boolean) {
    const link = this.#o.link;
    const todo = drives.filter((d) => link.view(d).state?.cia402 !== 'OPERATION_ENABLED');
    const extra = resetFault ? { resetFault: true } : {};
    return failures(await sendEach({ ...this.#o, retryTimeout: true }, todo, 'enable', extra));
  }

  /** resetFault to the reachable drives that report FAULT. */
  async resetFaults() {
    const link = this.#o.link;
    const faulted = this.#all.filter((d) => {
      const c = link.view(d).state?.cia402;
      return link.isUp(d) && (c === 'FAULT' || c === 'FAULT_REACTION_ACTIVE');
    });
    return failures(await sendEach({ ...this.#o, retryTimeout: true }, faulted, 'resetFault'));
  }
}
