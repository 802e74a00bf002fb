/**
 * The eight states of the CiA 402 power drive system state machine
 * (CiA 402-2 §6.1.1, Figure "State machine"; IEC 61800-7-201 §4.4.4).
 * String values so that a state logged, published over MQTT or stored in the
 * journal reads the same as in code.
 */
export const Cia402State = {
  NOT_READY_TO_SWITCH_ON: 'NOT_READY_TO_SWITCH_ON',
  SWITCH_ON_DISABLED: 'SWITCH_ON_DISABLED',
  READY_TO_SWITCH_ON: 'READY_TO_SWITCH_ON',
  SWITCHED_ON: 'SWITCHED_ON',
  OPERATION_ENABLED: 'OPERATION_ENABLED',
  QUICK_STOP_ACTIVE: 'QUICK_STOP_ACTIVE',
  FAULT_REACTION_ACTIVE: 'FAULT_REACTION_ACTIVE',
  FAULT: 'FAULT',
} as const;

export type Cia402State = (typeof Cia402State)[keyof typeof Cia402State];

/** Every state, in the order CiA 402 draws them (power off → power on → fault). */
export const CIA402_STATES: readonly Cia402State[] = Object.freeze(Object.values(Cia402State));

export function isCia402State(value: unknown): value is Cia402State {
  return typeof value === 'string' && Object.hasOwn(Cia402State, value);
}
