/**
 * The line controller's topics (contract v1):
 *
 * | topic                        | QoS / retained | what |
 * |------------------------------|----------------|------|
 * | {root}/lines/{id}/state      | 1 / retained   | the line's snapshot: state, counters, stations |
 * | {root}/lines/{id}/events     | 1              | state changes, cycles, steps, compensations, bypass/rejoin, estop, recovery; unique `eventId` |
 * | {root}/lines/{id}/commands   | 1              | line commands in: start, stop, estop, reset, rejoin |
 *
 * Line commands are answered exactly like drive commands: to the MQTT 5 response topic
 * (with the correlation data) or to `replyTo` for 3.1.1 clients; `accepted` for the
 * ones that take time, then one final `completed | rejected | failed | expired`; a
 * repeated `commandId` gets the first answer and is never executed twice.
 */
import { type Static, type TObject, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ContractError } from '../errors.ts';
import type { Topics } from '../topics.ts';
import { REPLY_STATUSES } from './commands.ts';
import { ErrorBodySchema, Id, strict, Ts } from './common.ts';

/** `{root}/lines/{id}/commands` (topics() builds only state and events). */
export function lineCommandsTopic(t: Topics, lineId: string): string {
  // t.line checks the id; swap the last level.
  return `${t.line(lineId, 'state').slice(0, -'state'.length)}commands`;
}

export const LINE_STATES = [
  'IDLE',
  'RUNNING',
  'STOPPING',
  'STOPPED',
  'ESTOPPED',
  'FAULTED',
] as const;
export type LineStateName = (typeof LINE_STATES)[number];
const LineStateNameSchema = Type.Union(LINE_STATES.map((s) => Type.Literal(s)));

const CommandId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7E]+$' });
const ReplyTo = Type.String({ minLength: 1, maxLength: 512, pattern: '^[^#+]+$' });
const base = { commandId: CommandId, deadline: Type.Optional(Ts), replyTo: Type.Optional(ReplyTo) };

function lineCommand<
  T extends string,
  P extends Record<string, import('@sinclair/typebox').TSchema>,
>(type: T, params: P) {
  return Type.Object(
    { ...base, type: Type.Literal(type), ...params },
    { ...strict, $id: `LineCommand.${type}` },
  );
}

export const LineCommandSchemas = {
  /** Enable the drives of the active stations and cycle until stopped. */
  start: lineCommand('start', {}),
  /** Finish the cycle in progress, then STOPPED. */
  stop: lineCommand('stop', {}),
  /** quickStop to every drive of the line at once; ESTOPPED until `reset`. */
  estop: lineCommand('estop', {}),
  /** Clear ESTOPPED or FAULTED (and reset drive faults): IDLE. */
  reset: lineCommand('reset', {}),
  /** Bring a bypassed station back at the next cycle boundary (all bypassed ones without `station`). */
  rejoin: lineCommand('rejoin', { station: Type.Optional(Id) }),
} as const;

export type LineCommandType = keyof typeof LineCommandSchemas;
export const LINE_COMMAND_TYPES = Object.keys(LineCommandSchemas) as LineCommandType[];
export type LineCommand = {
  [K in LineCommandType]: Static<(typeof LineCommandSchemas)[K]>;
}[LineCommandType];

export const LineReplySchema = Type.Object(
  {
    commandId: CommandId,
    status: Type.Union(REPLY_STATUSES.map((s) => Type.Literal(s))),
    ts: Ts,
    lineId: Type.Optional(Id),
    type: Type.Optional(Type.String()),
    /** The line's state when the reply was sent. */
    state: Type.Optional(LineStateNameSchema),
    error: Type.Optional(ErrorBodySchema),
  },
  { ...strict, $id: 'LineReply' },
);
export type LineReply = Static<typeof LineReplySchema>;

export const StationStatusSchema = Type.Object(
  {
    id: Id,
    bypassable: Type.Boolean(),
    /** `active`, `bypassed` (out of the cycle), `rejoining` (back at the next cycle boundary). */
    status: Type.Union([
      Type.Literal('active'),
      Type.Literal('bypassed'),
      Type.Literal('rejoining'),
    ]),
    drives: Type.Array(Id),
    /** Why the station is out, when it is. */
    reason: Type.Optional(Type.String()),
  },
  strict,
);

export const LineStateSchema = Type.Object(
  {
    lineId: Id,
    ts: Ts,
    /** Increases with every state message of this controller run. */
    seq: Type.Integer({ minimum: 0 }),
    state: LineStateNameSchema,
    /** Why the line is in this state (a fault, an operator command, a recovery). */
    reason: Type.Union([Type.String(), Type.Null()]),
    /** When the line entered this state (ms since the epoch). */
    since: Ts,
    /**
     * Number of the cycle in progress, or of the last one (part of its commandIds). A new
     * saga log numbers from its creation time in tenths of a second, so numbers are
     * never reused by a controller that lost its log.
     */
    cycle: Type.Integer({ minimum: 0 }),
    /** Id of the step in progress, null between steps and cycles. */
    step: Type.Union([Type.String(), Type.Null()]),
    cyclesCompleted: Type.Integer({ minimum: 0 }),
    /** Duration of the last completed cycle, ms. */
    lastCycleMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    bypassedStations: Type.Array(Id),
    /** Cycles that ended in compensation. */
    compensations: Type.Integer({ minimum: 0 }),
    stations: Type.Array(StationStatusSchema),
  },
  { ...strict, $id: 'LineState' },
);
export type LineState = Static<typeof LineStateSchema>;

const head = {
  /** Unique per event (the journal stores each once). */
  eventId: Type.String({ minLength: 1, maxLength: 128 }),
  lineId: Id,
  ts: Ts,
};
const Cycle = Type.Integer({ minimum: 1 });
const StepIndex = Type.Integer({ minimum: 0 });

export const LineEventSchemas = {
  /** The line's state changed. */
  state: Type.Object(
    {
      ...head,
      type: Type.Literal('state'),
      from: Type.Union([LineStateNameSchema, Type.Null()]),
      to: LineStateNameSchema,
      reason: Type.Union([Type.String(), Type.Null()]),
    },
    strict,
  ),
  /** A cycle started or ended (`completed`, `compensated`, `aborted`). */
  cycle: Type.Object(
    {
      ...head,
      type: Type.Literal('cycle'),
      cycle: Cycle,
      phase: Type.Union([
        Type.Literal('started'),
        Type.Literal('completed'),
        Type.Literal('compensated'),
        Type.Literal('aborted'),
      ]),
      ms: Type.Optional(Type.Number({ minimum: 0 })),
      bypassedStations: Type.Array(Id),
      reason: Type.Optional(Type.String()),
    },
    strict,
  ),
  /** One step of a cycle (or one compensation of it, `compensation: true`). */
  step: Type.Object(
    {
      ...head,
      type: Type.Literal('step'),
      cycle: Cycle,
      step: StepIndex,
      stepId: Type.String(),
      phase: Type.Union([
        Type.Literal('started'),
        Type.Literal('completed'),
        Type.Literal('failed'),
        Type.Literal('skipped'),
      ]),
      compensation: Type.Boolean(),
      driveIds: Type.Array(Id),
      commandIds: Type.Array(Type.String()),
      error: Type.Optional(ErrorBodySchema),
    },
    strict,
  ),
  /** A failed cycle's started steps are compensated, newest first. */
  compensation: Type.Object(
    {
      ...head,
      type: Type.Literal('compensation'),
      cycle: Cycle,
      phase: Type.Union([Type.Literal('started'), Type.Literal('completed')]),
      reason: Type.String(),
      /** Compensations that failed (their drives: e.g. the one that is down). */
      failed: Type.Optional(
        Type.Array(Type.Object({ driveId: Id, error: ErrorBodySchema }, strict)),
      ),
    },
    strict,
  ),
  /** A station was taken out of the cycle, or came back. */
  station: Type.Object(
    {
      ...head,
      type: Type.Literal('station'),
      station: Id,
      change: Type.Union([Type.Literal('bypassed'), Type.Literal('rejoined')]),
      reason: Type.String(),
    },
    strict,
  ),
  /**
   * The emergency stop: each drive's quickStop result. `resent: true` marks the
   * quickStop sent again, after the estop, to a drive seen enabled again.
   */
  estop: Type.Object(
    {
      ...head,
      type: Type.Literal('estop'),
      resent: Type.Optional(Type.Literal(true)),
      results: Type.Array(
        Type.Object(
          {
            driveId: Id,
            commandId: Type.String(),
            status: Type.Union(REPLY_STATUSES.map((s) => Type.Literal(s))),
            error: Type.Optional(ErrorBodySchema),
          },
          strict,
        ),
      ),
    },
    strict,
  ),
  /** What the controller did with an interrupted cycle after a restart. */
  recovery: Type.Object(
    {
      ...head,
      type: Type.Literal('recovery'),
      cycle: Type.Union([Cycle, Type.Null()]),
      action: Type.Union([
        Type.Literal('none'),
        Type.Literal('resumed'),
        Type.Literal('compensated'),
        Type.Literal('closed'),
      ]),
      detail: Type.String(),
      /** Commands sent again with their original commandId (the device answers a known one from its cache). */
      resent: Type.Array(Type.String()),
    },
    strict,
  ),
  /** A line command's lifecycle: received, then exactly one final status. */
  command: Type.Object(
    {
      ...head,
      type: Type.Literal('command'),
      commandId: Type.String(),
      commandType: Type.String(),
      phase: Type.Union([Type.Literal('received'), ...REPLY_STATUSES.map((s) => Type.Literal(s))]),
      error: Type.Optional(ErrorBodySchema),
    },
    strict,
  ),
} as const;

export type LineEvent = {
  [K in keyof typeof LineEventSchemas]: Static<(typeof LineEventSchemas)[K]>;
}[keyof typeof LineEventSchemas];
export const LineEventSchema = Type.Union(Object.values(LineEventSchemas), { $id: 'LineEvent' });

export type ParsedLineCommand =
  | { ok: true; command: LineCommand }
  | { ok: false; error: ContractError; commandId?: string; replyTo?: string };

/** Untrusted line command payload → a typed command, or BAD_REQUEST with what could be read. Never throws. */
export function parseLineCommand(payload: Uint8Array | string, maxBytes = 4096): ParsedLineCommand {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > maxBytes) return bad(`payload of ${size} bytes exceeds ${maxBytes}`, '/');
  let raw: unknown;
  try {
    raw = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch {
    return bad('payload is not JSON', '/');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return bad('a command must be a JSON object', '/');
  const obj = raw as Record<string, unknown>;
  const ids: { commandId?: string; replyTo?: string } = {};
  if (typeof obj.commandId === 'string' && obj.commandId.length > 0 && obj.commandId.length <= 128)
    ids.commandId = obj.commandId;
  if (typeof obj.replyTo === 'string' && obj.replyTo.length > 0 && !/[#+]/.test(obj.replyTo))
    ids.replyTo = obj.replyTo;
  const schema =
    typeof obj.type === 'string' && Object.hasOwn(LineCommandSchemas, obj.type)
      ? (LineCommandSchemas as Record<string, TObject>)[obj.type]
      : undefined;
  if (!schema)
    return { ...bad(`type must be one of ${LINE_COMMAND_TYPES.join(', ')}`, '/type'), ...ids };
  const first = Value.Errors(schema, raw).First();
  if (first) {
    const path = first.path || '/';
    const why =
      first.message === 'Unexpected property' ? 'unknown field' : first.message.toLowerCase();
    return { ...bad(`${path}: ${why}`, path), ...ids };
  }
  return { ok: true, command: raw as LineCommand };
}

function bad(message: string, path: string): ParsedLineCommand {
  return { ok: false, error: { code: 'BAD_REQUEST', message, path } };
}
