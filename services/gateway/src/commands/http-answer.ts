/**
 * A drive's answer → the HTTP answer: 200 completed, 202 accepted, and the contract
 * code's status (errors.ts `HTTP_STATUS`) for the rest — 409 INVALID_STATE /
 * DRIVE_FAULT / ABORTED, 422 LIMIT_EXCEEDED, 410 COMMAND_EXPIRED, 503 DRIVE_UNREACHABLE /
 * OVERLOADED (with Retry-After), 504 TIMEOUT (the device could not tell the outcome).
 */
import type { ErrorCode, Reply } from '../../../contract/src/index.ts';
import { HTTP_STATUS } from '../errors.ts';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const FALLBACK: Record<Reply['status'], ErrorCode> = {
  accepted: 'INTERNAL',
  completed: 'INTERNAL',
  rejected: 'INVALID_STATE',
  failed: 'INTERNAL',
  expired: 'COMMAND_EXPIRED',
};

export function httpAnswer(reply: Reply, driveId: string, replayed: boolean): HttpAnswer {
  if (reply.status === 'completed' || reply.status === 'accepted') {
    return {
      status: reply.status === 'completed' ? 200 : 202,
      headers: {},
      body: { ...reply, driveId, ...(replayed ? { replayed } : {}) },
    };
  }
  const given = reply.error?.code as ErrorCode | undefined;
  const code = given && given in HTTP_STATUS ? given : FALLBACK[reply.status];
  // A device INTERNAL is the upstream's failure: 502, not the gateway's 500.
  const status = code === 'INTERNAL' ? 502 : HTTP_STATUS[code];
  return {
    status,
    headers: status === 503 ? { 'retry-after': '1' } : {},
    body: {
      error: reply.error ?? { code, message: `the drive answered ${reply.status}` },
      commandId: reply.commandId,
      driveId,
      status: reply.status,
      ...(status === 504 ? { outcome: 'unknown' } : {}),
    },
  };
}
