/** Drive events (`{root}/drives/{id}/events`, QoS 1), each with a unique `eventId`. */
import { type Static, Type } from '@sinclair/typebox';
import { REPLY_STATUSES } from './commands.ts';
import { Cia402StateSchema, ErrorBodySchema, FaultSchema, Id, strict, Ts } from './common.ts';
import { AVAILABILITY } from './drive.ts';

const head = {
  /** Unique per event (the journal stores each once). */
  eventId: Type.String({ minLength: 1, maxLength: 128 }),
  driveId: Id,
  ts: Ts,
};

export const EventSchemas = {
  /** The CiA 402 state changed. */
  state: Type.Object(
    {
      ...head,
      type: Type.Literal('state'),
      from: Type.Union([Cia402StateSchema, Type.Null()]),
      to: Cia402StateSchema,
    },
    strict,
  ),
  /** The drive faulted (fault) or its fault was cleared (fault: null). */
  fault: Type.Object(
    { ...head, type: Type.Literal('fault'), fault: Type.Union([FaultSchema, Type.Null()]) },
    strict,
  ),
  /** The device service's breaker for the drive changed. */
  breaker: Type.Object(
    {
      ...head,
      type: Type.Literal('breaker'),
      state: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half-open')]),
    },
    strict,
  ),
  /** Availability changed. */
  availability: Type.Object(
    {
      ...head,
      type: Type.Literal('availability'),
      status: Type.Union(AVAILABILITY.map((a) => Type.Literal(a))),
      reason: Type.Optional(Type.String()),
    },
    strict,
  ),
  /** A command's lifecycle: received, then exactly one final status. */
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

export type DriveEvent = {
  [K in keyof typeof EventSchemas]: Static<(typeof EventSchemas)[K]>;
}[keyof typeof EventSchemas];
export const DriveEventSchema = Type.Union(Object.values(EventSchemas), { $id: 'DriveEvent' });
