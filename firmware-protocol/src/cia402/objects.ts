/**
 * The CiA 402 object dictionary entries servofleet uses (CiA 402-2 §6–§12), by name.
 * A drive profile maps these to the vendor's registers or control table
 * (`profiles/`); the index is kept there as `index:` for reference.
 * Source: DESIGN.md "Protocol facts", ros2_canopen `canopen_402_driver`.
 */
export const Objects = {
  errorCode: 0x603f,
  controlword: 0x6040,
  statusword: 0x6041,
  modesOfOperation: 0x6060,
  modesOfOperationDisplay: 0x6061,
  positionActual: 0x6064,
  velocityActual: 0x606c,
  targetTorque: 0x6071,
  torqueActual: 0x6077,
  targetPosition: 0x607a,
  profileVelocity: 0x6081,
  profileAcceleration: 0x6083,
  profileDeceleration: 0x6084,
  targetVelocity: 0x60ff,
} as const;

export type ObjectName = keyof typeof Objects;

const NAME_BY_INDEX = new Map<number, ObjectName>(
  (Object.entries(Objects) as [ObjectName, number][]).map(([name, index]) => [index, name]),
);

/** The name of a CiA 402 object index (`0x6041` → `'statusword'`), or null. */
export function objectNameOf(index: number): ObjectName | null {
  return NAME_BY_INDEX.get(index) ?? null;
}
