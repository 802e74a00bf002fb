import { Type } from '@sinclair/typebox';
import { ID_PATTERN } from '../topics.ts';

export const strict = { additionalProperties: false } as const;
export const Id = Type.String({
  pattern: ID_PATTERN,
  description: 'an id that is one MQTT topic level',
});
/** Milliseconds since the Unix epoch. */
export const Ts = Type.Integer({ minimum: 0, description: 'ms since the Unix epoch' });

export const CIA402_STATE_NAMES = [
  'NOT_READY_TO_SWITCH_ON',
  'SWITCH_ON_DISABLED',
  'READY_TO_SWITCH_ON',
  'SWITCHED_ON',
  'OPERATION_ENABLED',
  'QUICK_STOP_ACTIVE',
  'FAULT_REACTION_ACTIVE',
  'FAULT',
] as const;
export const Cia402StateSchema = Type.Union(CIA402_STATE_NAMES.map((s) => Type.Literal(s)));

export const MODE_NAMES = ['PP', 'PV', 'PT', 'HOMING', 'IP', 'CSP', 'CSV', 'CST'] as const;
export const ModeSchema = Type.Union(MODE_NAMES.map((m) => Type.Literal(m)));

export const FaultSchema = Type.Object(
  {
    /** CiA 402 0x603F error code (for Dynamixel: mapped from Hardware Error Status). */
    code: Type.Integer({ minimum: 0, maximum: 0xffff }),
    hex: Type.String({ pattern: '^0x[0-9A-F]{4}$' }),
    text: Type.String(),
  },
  strict,
);

export const ErrorBodySchema = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    path: Type.Optional(Type.String()),
  },
  strict,
);
