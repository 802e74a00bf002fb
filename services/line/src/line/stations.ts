/**
 * The stations of a line and whether each is in the cycle: `active`, `bypassed` (its
 * drive is down or failed; its parts are skipped) or `rejoining` (its drives are back;
 * it comes back at the next cycle boundary). Only bypassable stations ever leave.
 */
import type { StationPlan } from '../cycle/parse-cycle.ts';

export type StationStatus = 'active' | 'bypassed' | 'rejoining';

export interface StationEntry {
  readonly plan: StationPlan;
  status: StationStatus;
  reason: string | undefined;
  /** An operator asked for it to rejoin (a rejoin may then reset a drive fault). */
  byOperator: boolean;
  /** Replies waiting for the rejoin to happen. */
  waiting: ((ok: boolean, message?: string) => void)[];
}

export class Stations {
  readonly #byId = new Map<string, StationEntry>();
  readonly #byDrive = new Map<string, StationEntry>();

  constructor(plans: readonly StationPlan[]) {
    for (const plan of plans) {
      const e: StationEntry = {
        plan,
        status: 'active',
        reason: undefined,
        byOperator: false,
        waiting: [],
      };
      this.#byId.set(plan.id, e);
      for (const d of plan.drives) this.#byDrive.set(d, e);
    }
  }

  get(id: string): StationEntry | undefined {
    return this.#byId.get(id);
  }

  ofDrive(driveId: string): StationEntry | undefined {
    return this.#byDrive.get(driveId);
  }

  all(): StationEntry[] {
    return [...this.#byId.values()];
  }

  isBypassed(id: string): boolean {
    const s = this.#byId.get(id);
    return s !== undefined && s.status !== 'active';
  }

  bypassedIds(): string[] {
    return this.all()
      .filter((s) => s.status !== 'active')
      .map((s) => s.plan.id);
  }

  /** The state message's view. */
  view() {
    return this.all().map((s) => ({
      id: s.plan.id,
      bypassable: s.plan.bypassable,
      status: s.status,
      drives: [...s.plan.drives],
      ...(s.status !== 'active' && s.reason ? { reason: s.reason } : {}),
    }));
  }
}
