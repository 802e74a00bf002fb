/**
 * Commands in (`{root}/drives/{id}/commands`, QoS 1) and their replies.
 *
 * A command carries `commandId` (idempotency key: a redelivered command is answered
 * with the first result and never executed twice), `type`, its parameters, an
 * optional `deadline` (ms since the epoch: past it the command is answered `expired`
 * and never executed) and, for MQTT 3.1.1 clients, `replyTo` (MQTT 5 clients use the
 * response topic and correlation data instead).
 */
import { type Static, type TObject, Type } from '@sinclair/typebox';
import { ErrorBodySchema, Id, MODE_NAMES, strict, Ts } from './common.ts';

const CommandId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7E]+$' });
const ReplyTo = Type.String({ minLength: 1, maxLength: 512, pattern: '^[^#+]+$' });
const Int32 = Type.Integer({ minimum: -0x80000000, maximum: 0x7fffffff });
const Positive = Type.Integer({ minimum: 1, maximum: 0x7fffffff });

const base = {
  commandId: CommandId,
  deadline: Type.Optional(Ts),
  replyTo: Type.Optional(ReplyTo),
};

function command<T extends string, P extends Record<string, import('@sinclair/typebox').TSchema>>(
  type: T,
  params: P,
) {
  return Type.Object(
    { ...base, type: Type.Literal(type), ...params },
    { ...strict, $id: `Command.${type}` },
  );
}

export const CommandSchemas = {
  /** Walk the CiA 402 state machine to OPERATION_ENABLED; through fault reset only if `resetFault`. */
  enable: command('enable', { resetFault: Type.Optional(Type.Boolean()) }),
  /** Power stage off (disable voltage → SWITCH_ON_DISABLED). */
  disable: command('disable', {}),
  /** Quick stop: decelerate on the quick-stop ramp; goes through the priority lane. */
  quickStop: command('quickStop', {}),
  /** Fault reset (rising edge of controlword bit 7, or Dynamixel reboot). */
  resetFault: command('resetFault', {}),
  /** Profile-position move: absolute (default) or relative, counts; velocity/acceleration optional. */
  moveTo: command('moveTo', {
    position: Int32,
    relative: Type.Optional(Type.Boolean()),
    velocity: Type.Optional(Positive),
    acceleration: Type.Optional(Positive),
    deceleration: Type.Optional(Positive),
  }),
  /** Profile-velocity jog at `velocity` counts/s (0 stops). */
  jog: command('jog', { velocity: Int32, acceleration: Type.Optional(Positive) }),
  /** Stop the motion (halt), staying enabled; goes through the priority lane. */
  stop: command('stop', {}),
  /** Run the homing method to the home switch. */
  home: command('home', {}),
  /** Set the mode of operation. */
  setMode: command('setMode', { mode: Type.Union(MODE_NAMES.map((m) => Type.Literal(m))) }),
} as const;

export type CommandType = keyof typeof CommandSchemas;
export const COMMAND_TYPES = Object.keys(CommandSchemas) as CommandType[];
export type Command = { [K in CommandType]: Static<(typeof CommandSchemas)[K]> }[CommandType];
export type CommandOf<K extends CommandType> = Static<(typeof CommandSchemas)[K]>;

/** Any command, for documentation (OpenAPI/AsyncAPI); validation picks the schema by `type`. */
export const CommandSchema = Type.Union(Object.values(CommandSchemas) as TObject[], {
  $id: 'Command',
});

export const REPLY_STATUSES = ['accepted', 'completed', 'rejected', 'failed', 'expired'] as const;
export type ReplyStatus = (typeof REPLY_STATUSES)[number];

export const ReplySchema = Type.Object(
  {
    commandId: CommandId,
    status: Type.Union(REPLY_STATUSES.map((s) => Type.Literal(s))),
    ts: Ts,
    driveId: Type.Optional(Id),
    type: Type.Optional(Type.String()),
    error: Type.Optional(ErrorBodySchema),
  },
  { ...strict, $id: 'Reply' },
);
export type Reply = Static<typeof ReplySchema>;
