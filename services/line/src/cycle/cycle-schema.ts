/**
 * The cycle of a line, as written in the fleet file (`lines[].cycle`): a sequence of
 * steps, each an object with exactly one kind key.
 *
 * ```yaml
 * cycle:
 *   - { id: index, moveTo: { drive: axis-1, position: 12000, velocity: 40000 },
 *       timeoutMs: 3000, compensate: { stop: {} } }
 *   - id: pick-down
 *     parallel:
 *       - { moveTo: { drive: axis-2, position: 15000 }, compensate: { moveTo: { position: 0 } } }
 *       - { moveTo: { drive: axis-3, position: -15000 }, compensate: { moveTo: { position: 0 } } }
 *   - { id: press, dwell: 150, station: label }
 *   - { waitFor: { drive: axis-1, position: 12000, tolerance: 50 }, timeoutMs: 2000 }
 *   - { jog: { drive: axis-1, velocity: 0 } }
 * ```
 *
 * `compensate` is a safe move (not an undo) run when a later step fails: `moveTo`,
 * `jog` or `stop`, on the step's drive unless it names another; `none` for no
 * compensation. Motion steps default to `{ stop: {} }`. One schema per kind, chosen by
 * the kind key, so that an error names the fields of that kind rather than every
 * alternative (the same approach as the simulator's fault bodies).
 */
import { type TObject, type TSchema, Type } from '@sinclair/typebox';
import { CIA402_STATE_NAMES, ID_PATTERN } from '../../../contract/src/index.ts';

const strict = { additionalProperties: false } as const;
const Id = Type.String({ pattern: ID_PATTERN });
const Int32 = Type.Integer({ minimum: -0x80000000, maximum: 0x7fffffff });
const Positive = Type.Integer({ minimum: 1, maximum: 0x7fffffff });
/** How long the line waits for a step's final answer, ms. */
const TimeoutMs = Type.Integer({ minimum: 1, maximum: 600_000 });
const StepId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' });

export const MoveToSchema = Type.Object(
  {
    drive: Id,
    position: Int32,
    relative: Type.Optional(Type.Boolean()),
    velocity: Type.Optional(Positive),
    acceleration: Type.Optional(Positive),
    deceleration: Type.Optional(Positive),
  },
  strict,
);

export const JogSchema = Type.Object(
  { drive: Id, velocity: Int32, acceleration: Type.Optional(Positive) },
  strict,
);

export const WaitForSchema = Type.Object(
  {
    drive: Id,
    /** Reported position within `tolerance` of this (counts). */
    position: Type.Optional(Int32),
    tolerance: Type.Optional(Type.Integer({ minimum: 0, maximum: 0x7fffffff })),
    /** CiA 402 state (Dynamixel drives map onto the same names). */
    state: Type.Optional(Type.Union(CIA402_STATE_NAMES.map((s) => Type.Literal(s)))),
    targetReached: Type.Optional(Type.Boolean()),
  },
  strict,
);

export const CompensateSchemas = {
  moveTo: Type.Object(
    {
      moveTo: Type.Object(
        {
          drive: Type.Optional(Id),
          position: Int32,
          velocity: Type.Optional(Positive),
          acceleration: Type.Optional(Positive),
          deceleration: Type.Optional(Positive),
        },
        strict,
      ),
    },
    strict,
  ),
  jog: Type.Object(
    {
      jog: Type.Object(
        { drive: Type.Optional(Id), velocity: Int32, acceleration: Type.Optional(Positive) },
        strict,
      ),
    },
    strict,
  ),
  stop: Type.Object({ stop: Type.Object({ drive: Type.Optional(Id) }, strict) }, strict),
} as const;

const common = {
  id: Type.Optional(StepId),
  /** The station the step belongs to; derived from the drive when there is one. */
  station: Type.Optional(Id),
};
const compensate = Type.Optional(Type.Unknown());

/** Steps that may stand in a `parallel` list (one action on one drive each). */
export const PartSchemas = {
  moveTo: Type.Object(
    { ...common, moveTo: MoveToSchema, timeoutMs: Type.Optional(TimeoutMs), compensate },
    strict,
  ),
  jog: Type.Object(
    { ...common, jog: JogSchema, timeoutMs: Type.Optional(TimeoutMs), compensate },
    strict,
  ),
  waitFor: Type.Object(
    {
      ...common,
      waitFor: WaitForSchema,
      timeoutMs: Type.Optional(TimeoutMs),
      compensate: Type.Optional(Type.Literal('none')),
    },
    strict,
  ),
} as const satisfies Record<string, TObject>;

export const StepSchemas = {
  ...PartSchemas,
  dwell: Type.Object(
    {
      ...common,
      dwell: Type.Integer({ minimum: 0, maximum: 600_000 }),
      compensate: Type.Optional(Type.Literal('none')),
    },
    strict,
  ),
  parallel: Type.Object(
    {
      id: Type.Optional(StepId),
      parallel: Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1 }),
      /** Default timeout of its parts. */
      timeoutMs: Type.Optional(TimeoutMs),
    },
    strict,
  ),
} as const satisfies Record<string, TSchema>;

export type StepKind = keyof typeof StepSchemas;
export const STEP_KINDS = Object.keys(StepSchemas) as StepKind[];
export const PART_KINDS = Object.keys(PartSchemas) as (keyof typeof PartSchemas)[];

/** Default wait for a motion step's final answer when the step gives no `timeoutMs`. */
export const DEFAULT_STEP_TIMEOUT_MS = 5000;
