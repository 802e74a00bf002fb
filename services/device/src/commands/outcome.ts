/**
 * What a command ends in, and how bus errors map onto contract codes: nothing sent
 * (DRIVE_UNREACHABLE, EXPIRED, WITHDRAWN → ABORTED), refused by the drive (DRIVE_REJECTED), or unknown
 * (TIMEOUT: a write may or may not have taken effect — never reported as success).
 */
import type { ContractError, ReplyStatus } from '../../../contract/src/index.ts';
import { BusError } from '../bus/errors.ts';

export type FinalStatus = Exclude<ReplyStatus, 'accepted'>;

export interface Outcome {
  status: FinalStatus;
  error?: ContractError;
}

export const COMPLETED: Outcome = { status: 'completed' };

export function rejected(code: ContractError['code'], message: string): Outcome {
  return { status: 'rejected', error: { code, message } };
}

export function failed(code: ContractError['code'], message: string): Outcome {
  return { status: 'failed', error: { code, message } };
}

/** Thrown inside a command sequence to end it with this outcome. */
export class CommandEnd extends Error {
  constructor(readonly outcome: Outcome) {
    super(outcome.error?.message ?? outcome.status);
  }
}

export function outcomeOfError(err: unknown): Outcome {
  if (err instanceof CommandEnd) return err.outcome;
  if (err instanceof BusError) {
    switch (err.code) {
      case 'EXPIRED':
        return { status: 'expired', error: { code: 'COMMAND_EXPIRED', message: err.message } };
      case 'DRIVE_UNREACHABLE':
      case 'BUS_STOPPED':
      case 'UNKNOWN_DRIVE':
        return failed('DRIVE_UNREACHABLE', err.message);
      case 'DRIVE_REJECTED':
        return failed('DRIVE_REJECTED', err.message);
      case 'WITHDRAWN':
        return failed('ABORTED', err.message);
      case 'BAD_REQUEST':
        return rejected('BAD_REQUEST', err.message);
      default:
        // TIMEOUT, LINK_DOWN in flight, BAD_RESPONSE: the outcome is unknown.
        return failed('TIMEOUT', `outcome unknown: ${err.message}`);
    }
  }
  return failed('INTERNAL', err instanceof Error ? err.message : String(err));
}
