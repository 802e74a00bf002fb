/**
 * Untrusted command payloads → a typed command, or a BAD_REQUEST that still carries
 * the `commandId` and `replyTo` when they could be read, so the sender gets an answer.
 * Never throws.
 */
import type { TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ContractError } from './errors.ts';
import { COMMAND_TYPES, type Command, CommandSchemas } from './schemas/commands.ts';

/** Largest command payload accepted, bytes. */
export const MAX_COMMAND_BYTES = 4096;

export type ParsedCommand =
  | { ok: true; command: Command }
  | { ok: false; error: ContractError; commandId?: string; replyTo?: string };

export function parseCommand(
  payload: Uint8Array | string,
  maxBytes = MAX_COMMAND_BYTES,
): ParsedCommand {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > maxBytes) return bad(`payload of ${size} bytes exceeds ${maxBytes}`, '/');
  let raw: unknown;
  try {
    raw = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch {
    return bad('payload is not JSON', '/');
  }
  return checkCommand(raw);
}

/** Check an already-parsed value (an HTTP body, for instance). */
export function checkCommand(raw: unknown): ParsedCommand {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return bad('a command must be a JSON object', '/');
  const obj = raw as Record<string, unknown>;
  const ids: { commandId?: string; replyTo?: string } = {};
  if (
    typeof obj.commandId === 'string' &&
    obj.commandId.length > 0 &&
    obj.commandId.length <= 128
  ) {
    ids.commandId = obj.commandId;
  }
  if (typeof obj.replyTo === 'string' && obj.replyTo.length > 0 && !/[#+]/.test(obj.replyTo))
    ids.replyTo = obj.replyTo;
  const type = obj.type;
  const schema =
    typeof type === 'string' && Object.hasOwn(CommandSchemas, type)
      ? (CommandSchemas as Record<string, TObject>)[type]
      : undefined;
  if (!schema)
    return { ...bad(`type must be one of ${COMMAND_TYPES.join(', ')}`, '/type'), ...ids };
  const first = Value.Errors(schema, raw).First();
  if (first) {
    const path = first.path || '/';
    const why =
      first.message === 'Unexpected property' ? 'unknown field' : first.message.toLowerCase();
    return { ...bad(`${path}: ${why}`, path), ...ids };
  }
  return { ok: true, command: raw as Command };
}

function bad(message: string, path: string): ParsedCommand {
  return { ok: false, error: { code: 'BAD_REQUEST', message, path } };
}
