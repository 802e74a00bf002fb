/**
 * HTTP bodies of the gateway's API, built from the contract's TypeBox schemas so that
 * validation, serialisation and the OpenAPI document say the same thing.
 *
 * The command body is the contract command without `replyTo` (the gateway has its own
 * reply topic) and with `commandId` optional; it is a `oneOf` keyed by `type` (Ajv's
 * `discriminator`), so a bad body is reported against the fields of the command it
 * names — `/colour: unknown field` — not against every alternative.
 */
import { type TObject, type TSchema, Type } from '@sinclair/typebox';
import {
  AVAILABILITY,
  CIA402_STATE_NAMES,
  COMMAND_TYPES,
  CommandSchemas,
  ERROR_CODES,
  MetaSchema,
  REPLY_STATUSES,
  StateSchema,
} from '../../../contract/src/index.ts';
import { STREAM_TYPES } from '../stream/stream-hub.ts';

const strict = { additionalProperties: false } as const;

/** A JSON copy without `$id`s: contract schemas are embedded in several routes. */
export function plain<T extends TSchema>(schema: T): T {
  return JSON.parse(JSON.stringify(schema), (k, v) => (k === '$id' ? undefined : v)) as T;
}

const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);

export const ErrorCodeSchema = Type.Union(
  Object.keys(ERROR_CODES).map((c) => Type.Literal(c)),
  { description: 'A contract error code (services/contract/ERRORS.md).' },
);

export const ErrorResponseSchema = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'A contract error code (services/contract/ERRORS.md).' }),
        message: Type.String(),
        path: Type.Optional(Type.String({ description: 'JSON pointer of the bad field.' })),
      },
      strict,
    ),
    commandId: Type.Optional(Type.String()),
    driveId: Type.Optional(Type.String()),
    status: Type.Optional(
      Type.String({ description: 'The command’s last known status (pending, accepted, …).' }),
    ),
    outcome: Type.Optional(
      Type.Literal('unknown', {
        description:
          '504: the command may or may not take effect; GET /api/v1/commands/{commandId}.',
      }),
    ),
  },
  { ...strict, title: 'ErrorResponse' },
);

const commandBranch = (s: TObject) => {
  const p = plain(s) as unknown as {
    properties: Record<string, Record<string, unknown>>;
    required: string[];
  };
  const { replyTo: _r, commandId, ...rest } = p.properties;
  return {
    type: 'object',
    title: `${String(rest.type?.const)} command`,
    additionalProperties: false,
    properties: {
      commandId: {
        ...commandId,
        description:
          'Idempotency key: a retry with the same commandId is executed at most once. Made up by the gateway when absent.',
      },
      ...rest,
    },
    required: p.required.filter((k) => k !== 'commandId' && k !== 'replyTo'),
  };
};

export const CommandBodySchema = Type.Unsafe<Record<string, unknown>>({
  type: 'object',
  discriminator: { propertyName: 'type' },
  required: ['type'],
  oneOf: COMMAND_TYPES.map((t) => commandBranch(CommandSchemas[t])),
  description:
    'A contract command (services/contract) without `replyTo`; `deadline` defaults to now + the request timeout.',
});

export const CommandResultSchema = Type.Object(
  {
    commandId: Type.String(),
    status: Type.Union(REPLY_STATUSES.map((s) => Type.Literal(s))),
    ts: Type.Integer(),
    driveId: Type.String(),
    type: Type.Optional(Type.String()),
    error: Type.Optional(
      Type.Object(
        { code: Type.String(), message: Type.String(), path: Type.Optional(Type.String()) },
        strict,
      ),
    ),
    replayed: Type.Optional(
      Type.Boolean({ description: 'Answered from memory: a retry of a known commandId.' }),
    ),
  },
  { ...strict, title: 'CommandResult' },
);

export const CommandRecordSchema = Type.Object(
  {
    commandId: Type.String(),
    driveId: Type.String(),
    type: Nullable(Type.String()),
    status: Type.Union(
      ['pending', 'received', ...REPLY_STATUSES].map((s) => Type.Literal(s)),
      { description: '`pending`: published, nothing heard yet.' },
    ),
    final: Type.Boolean(),
    ts: Type.Integer(),
    error: Type.Optional(
      Type.Object(
        { code: Type.String(), message: Type.String(), path: Type.Optional(Type.String()) },
        strict,
      ),
    ),
  },
  { ...strict, title: 'CommandRecord' },
);

const BreakerSchema = Type.Union([
  Type.Literal('closed'),
  Type.Literal('open'),
  Type.Literal('half-open'),
]);

export const DriveViewSchema = Type.Object(
  {
    id: Type.String(),
    link: Nullable(Type.String()),
    line: Nullable(Type.Object({ id: Type.String(), station: Type.String() }, strict)),
    availability: Nullable(
      Type.Object(
        {
          status: Type.Union(AVAILABILITY.map((a) => Type.Literal(a))),
          ts: Type.Integer(),
          reason: Type.Optional(Type.String()),
        },
        strict,
      ),
    ),
    state: Nullable(plain(StateSchema)),
    meta: Nullable(plain(MetaSchema)),
    breaker: Type.Object(
      {
        device: Nullable(BreakerSchema),
        gateway: BreakerSchema,
      },
      strict,
    ),
    dead: Type.Boolean({
      description: 'Not online (or never reported), or a breaker open: commands fail fast.',
    }),
    updatedAt: Nullable(Type.Integer()),
  },
  { ...strict, title: 'Drive' },
);

export const DriveListSchema = Type.Object(
  { drives: Type.Array(DriveViewSchema) },
  { ...strict, title: 'DriveList' },
);

export const DriveParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }) },
  strict,
);

export const CommandQuerySchema = Type.Object(
  {
    wait: Type.Optional(
      Type.Union([Type.Literal('final'), Type.Literal('accepted')], {
        description:
          '`accepted`: answer 202 as soon as a long command (moveTo, home) is under way.',
      }),
    ),
    timeoutMs: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,6}$',
        description: 'How long to wait for the answer, ms (default 10000, at most 60000).',
      }),
    ),
  },
  strict,
);

export const StreamQuerySchema = Type.Object(
  {
    drive: Type.Optional(
      Type.String({ maxLength: 4096, description: 'Comma-separated drive ids (default: all).' }),
    ),
    type: Type.Optional(
      Type.String({
        pattern: `^(${STREAM_TYPES.join('|')})(,(${STREAM_TYPES.join('|')}))*$`,
        description: `Comma-separated: ${STREAM_TYPES.join(', ')} (default: all).`,
      }),
    ),
    key: Type.Optional(
      Type.String({
        description:
          'The API key, for EventSource clients that cannot set headers (this route only; redacted from logs).',
      }),
    ),
  },
  strict,
);

export const WhoamiSchema = Type.Object(
  {
    name: Type.String(),
    role: Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')]),
  },
  { ...strict, title: 'Whoami' },
);

export const HealthSchema = Type.Object({ status: Type.Literal('ok') }, strict);
export const ReadySchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
    details: Type.Record(Type.String(), Type.Unknown()),
  },
  strict,
);

export const LineParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }) },
  strict,
);
export const LineActionParamsSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    action: Type.Union([Type.Literal('start'), Type.Literal('stop'), Type.Literal('estop')]),
  },
  strict,
);

/** Lines are the line controller's to describe; the gateway relays its JSON as it is. */
export const RelayedSchema = Type.Unknown({
  description: 'The line controller’s or the journal’s answer, relayed as it is.',
});

export const CIA402_STATES = CIA402_STATE_NAMES;

/** Shared 4xx/5xx answers for the OpenAPI document and serialisation. */
export const errorResponses = {
  '4xx': ErrorResponseSchema,
  '5xx': ErrorResponseSchema,
} as const;
