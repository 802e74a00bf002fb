/**
 * A simulated drive's holding registers, laid out by its drive profile: reads encode
 * the drive's objects into registers, writes decode registers back into objects. A
 * register no object covers answers exception 02 (illegal data address), a read-only
 * object written answers 02 as well, a value the drive refuses answers 03 (illegal
 * data value), as DESIGN.md's `sf-servo` says real drives do.
 * Modbus Application Protocol V1.1b3 §7 (exception codes).
 */
import { modbus, profiles } from '../../../firmware-protocol/src/index.ts';
import type { SimDrive } from '../drive/sim-drive.ts';

type Profile = profiles.DriveProfile;
const X = modbus.ExceptionCode;

/** Registers, or the exception code to answer with. */
export type ReadResult = number[] | { exception: number };

export function readRegisters(
  drive: SimDrive,
  profile: Profile,
  address: number,
  quantity: number,
): ReadResult {
  const out = new Array<number>(quantity);
  for (let a = address; a < address + quantity; ) {
    const o = profiles.objectAt(profile, a);
    if (!o) return { exception: X.IllegalDataAddress };
    let regs: number[];
    try {
      regs = profiles.encodeRegisters(profile, o.name, drive.read(o.name) ?? 0, {
        allowReadOnly: true,
      }).registers;
    } catch {
      return { exception: X.ServerDeviceFailure };
    }
    for (let i = 0; i < regs.length; i++) {
      const r = o.address + i;
      if (r >= address && r < address + quantity) out[r - address] = regs[i]!;
    }
    a = o.address + regs.length;
  }
  return out;
}

/**
 * Write `values` from `address`. Every register must belong to a writable object
 * (checked before anything changes); a 32-bit object written by halves keeps its other
 * half. Returns 0 or the exception code.
 */
export function writeRegisters(
  drive: SimDrive,
  profile: Profile,
  address: number,
  values: readonly number[],
): number {
  const plan: { name: string; value: number }[] = [];
  for (let a = address; a < address + values.length; ) {
    const o = profiles.objectAt(profile, a);
    if (o?.access !== 'rw') return X.IllegalDataAddress;
    const size = profiles.sizeInRegisters(o);
    let regs: number[];
    try {
      regs = profiles.encodeRegisters(profile, o.name, drive.read(o.name) ?? 0, {
        allowReadOnly: true,
      }).registers;
    } catch {
      return X.ServerDeviceFailure;
    }
    for (let i = 0; i < size; i++) {
      const r = o.address + i;
      if (r >= address && r < address + values.length) regs[i] = values[r - address]!;
    }
    plan.push({ name: o.name, value: profiles.decodeRegisters(profile, o.name, regs, o.address) });
    a = o.address + size;
  }
  for (const { name, value } of plan) {
    const r = drive.write(name, value);
    if (r === 'range') return X.IllegalDataValue;
    if (r !== 'ok') return X.IllegalDataAddress;
  }
  return 0;
}
