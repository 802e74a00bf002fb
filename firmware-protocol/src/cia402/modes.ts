/**
 * Modes of operation (objects 0x6060 / 0x6061, INTEGER8), CiA 402-2 §6.2.1 Table 36.
 * Negative values are manufacturer specific (e.g. Kinco -3 immediate velocity) and
 * have no name here. Source: DESIGN.md "Protocol facts", ros2_canopen
 * `canopen_402_driver` (MotorBase::OperationMode).
 */
export const Mode = {
  /** Profile position. */
  PP: 1,
  /** Profile velocity. */
  PV: 3,
  /** Profile torque. */
  PT: 4,
  HOMING: 6,
  /** Interpolated position. */
  IP: 7,
  /** Cyclic synchronous position. */
  CSP: 8,
  /** Cyclic synchronous velocity. */
  CSV: 9,
  /** Cyclic synchronous torque. */
  CST: 10,
} as const;

export type ModeName = keyof typeof Mode;
export type ModeNumber = (typeof Mode)[ModeName];

const NAME_BY_NUMBER = new Map<number, ModeName>(
  (Object.entries(Mode) as [ModeName, number][]).map(([name, n]) => [n, name]),
);

/** The short name of a mode number (`1` → `'PP'`), or null for 0, reserved and vendor modes. */
export function modeName(n: number): ModeName | null {
  return NAME_BY_NUMBER.get(n) ?? null;
}

/** The mode number of a short name, case-insensitive (`'pp'` → 1), or null. */
export function modeNumber(name: string): ModeNumber | null {
  const key = name.toUpperCase();
  return Object.hasOwn(Mode, key) ? Mode[key as ModeName] : null;
}
