/**
 * Matches answers to the commands the gateway is waiting for, by `commandId`: replies
 * on its reply topic (MQTT 5 response topic or 3.1.1 `replyTo`) and the drives'
 * `command` events, which carry the same lifecycle (received → accepted → final).
 * Several HTTP requests may wait for one command (a client retrying with the same
 * `commandId` while the first request still waits); each hears the same answer.
 */
import type { Reply } from '../../../contract/src/index.ts';

export type Answer = { final: true; reply: Reply } | { final: false; reply: Reply };

interface Waiter {
  driveId: string;
  untilAccepted: boolean;
  /** A `received` event, an `accepted` reply: the drive's service is alive. */
  alive: boolean;
  resolve(a: Answer): void;
}

export interface Wait {
  readonly answer: Promise<Answer>;
  /** Did anything come back from the drive's service for this command yet? */
  alive(): boolean;
  cancel(): void;
}

export class ReplyRouter {
  readonly #waiting = new Map<string, Set<Waiter>>();

  get pending(): number {
    return this.#waiting.size;
  }

  isWaiting(commandId: string): boolean {
    return this.#waiting.has(commandId);
  }

  /** Register before publishing, so that a fast answer is not missed. */
  wait(commandId: string, driveId: string, untilAccepted: boolean): Wait {
    let resolve!: (a: Answer) => void;
    const answer = new Promise<Answer>((r) => {
      resolve = r;
    });
    const w: Waiter = { driveId, untilAccepted, alive: false, resolve };
    let set = this.#waiting.get(commandId);
    if (!set) {
      set = new Set();
      this.#waiting.set(commandId, set);
    }
    set.add(w);
    const remove = () => {
      const s = this.#waiting.get(commandId);
      if (!s) return;
      s.delete(w);
      if (s.size === 0) this.#waiting.delete(commandId);
    };
    return {
      answer: answer.finally(remove),
      alive: () => w.alive,
      cancel: remove,
    };
  }

  /** A `received` event: the command reached the drive's service. */
  received(commandId: string, driveId: string): void {
    for (const w of this.#waiting.get(commandId) ?? []) if (w.driveId === driveId) w.alive = true;
  }

  /** An `accepted` or final answer, from a reply or an event. */
  deliver(reply: Reply, driveId: string): void {
    const set = this.#waiting.get(reply.commandId);
    if (!set) return;
    const final = reply.status !== 'accepted';
    for (const w of [...set]) {
      if (w.driveId !== driveId) continue;
      w.alive = true;
      if (final) w.resolve({ final: true, reply });
      else if (w.untilAccepted) w.resolve({ final: false, reply });
    }
  }
}
