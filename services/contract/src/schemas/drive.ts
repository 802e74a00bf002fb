/**
 * Retained drive topics: availability, meta (birth certificate), state (snapshot), and
 * telemetry (the same fields at poll rate, QoS 0).
 */
import { type Static, Type } from '@sinclair/typebox';
import { Cia402StateSchema, FaultSchema, Id, ModeSchema, strict, Ts } from './common.ts';

export const AVAILABILITY = ['online', 'unreachable', 'offline'] as const;
export type AvailabilityStatus = (typeof AVAILABILITY)[number];

export const AvailabilitySchema = Type.Object(
  {
    status: Type.Union(AVAILABILITY.map((a) => Type.Literal(a))),
    ts: Ts,
    /** Why: `breaker open`, `link down`, `last will`, `shutdown`… */
    reason: Type.Optional(Type.String()),
  },
  { ...strict, $id: 'Availability' },
);
export type Availability = Static<typeof AvailabilitySchema>;

export const LimitsSchema = Type.Object(
  {
    position: Type.Optional(Type.Tuple([Type.Integer(), Type.Integer()])),
    velocity: Type.Optional(Type.Integer()),
    acceleration: Type.Optional(Type.Integer()),
  },
  strict,
);

export const MetaSchema = Type.Object(
  {
    driveId: Id,
    ts: Ts,
    contractVersion: Type.Literal(1),
    protocol: Type.Union([Type.Literal('modbus-rtu'), Type.Literal('dynamixel2')]),
    link: Id,
    /** Modbus unit id or Dynamixel id. */
    unit: Type.Integer({ minimum: 0, maximum: 252 }),
    profile: Type.String(),
    model: Type.Optional(Type.String()),
    firmware: Type.Optional(Type.String()),
    pollHz: Type.Number(),
    /**
     * While only position, velocity, torque, temperature or voltage change, state is
     * published at most this often (ms); telemetry carries every poll. A change of the
     * CiA 402 state, mode, target reached or fault is published at once.
     */
    stateIntervalMs: Type.Optional(Type.Integer({ minimum: 0 })),
    limits: LimitsSchema,
    /** The commands this drive takes. */
    commands: Type.Array(Type.String()),
    /** The device-service process that owns the drive. */
    service: Type.String(),
  },
  { ...strict, $id: 'Meta' },
);
export type Meta = Static<typeof MetaSchema>;

const stateFields = {
  driveId: Id,
  ts: Ts,
  /** Increases by one with every state or telemetry message of this drive (per service run). */
  seq: Type.Integer({ minimum: 0 }),
  cia402: Cia402StateSchema,
  mode: Type.Union([ModeSchema, Type.Null()]),
  /** Counts. */
  position: Type.Number(),
  /** Counts/s. */
  velocity: Type.Number(),
  /** ‰ of rated torque (Dynamixel: present current in mA). */
  torque: Type.Number(),
  /** °C. */
  temperature: Type.Number(),
  /** V (DC bus or input voltage). */
  voltage: Type.Number(),
  targetReached: Type.Boolean(),
  fault: Type.Union([FaultSchema, Type.Null()]),
};

export const StateSchema = Type.Object(stateFields, { ...strict, $id: 'State' });
export type DriveState = Static<typeof StateSchema>;

export const TelemetrySchema = Type.Object(stateFields, { ...strict, $id: 'Telemetry' });
export type Telemetry = Static<typeof TelemetrySchema>;
