/**
 * Wire types of profile objects: size, integer range, and the scaling between the
 * raw integer on the wire and the engineering value (raw × scale).
 */
import { ProtocolError } from '../errors.ts';
import type { ObjectInfo, ObjectType } from './schema.ts';

interface TypeSpec {
  readonly bytes: 1 | 2 | 4;
  readonly signed: boolean;
  readonly min: number;
  readonly max: number;
}

export const TYPE_SPEC: Readonly<Record<ObjectType, TypeSpec>> = {
  u8: { bytes: 1, signed: false, min: 0, max: 0xff },
  i8: { bytes: 1, signed: true, min: -0x80, max: 0x7f },
  u16: { bytes: 2, signed: false, min: 0, max: 0xffff },
  i16: { bytes: 2, signed: true, min: -0x8000, max: 0x7fff },
  u32: { bytes: 4, signed: false, min: 0, max: 0xffffffff },
  i32: { bytes: 4, signed: true, min: -0x80000000, max: 0x7fffffff },
};

/** Size of an object in bytes (Dynamixel control table). */
export function sizeInBytes(info: Pick<ObjectInfo, 'type'>): number {
  return TYPE_SPEC[info.type].bytes;
}

/** Size of an object in 16-bit registers (Modbus): 1 for 8/16-bit types, 2 for 32-bit. */
export function sizeInRegisters(info: Pick<ObjectInfo, 'type'>): number {
  return TYPE_SPEC[info.type].bytes === 4 ? 2 : 1;
}

/**
 * `1 / scale` when that is (within rounding) an integer, else 0. Scaling by 0.1 is
 * done as "÷ 10" and "× 10" rather than "× 0.1" and "÷ 0.1", so that 415 reads as
 * 41.5 and not 41.500000000000004.
 */
export function inverse(scale: number): number {
  const inv = 1 / scale;
  const rounded = Math.round(inv);
  return rounded >= 1 && Math.abs(inv - rounded) < 1e-9 * rounded ? rounded : 0;
}

/** Raw integer → engineering value. */
export function fromRaw(info: Pick<ObjectInfo, 'scale'>, raw: number): number {
  if (info.scale === 1) return raw;
  const inv = inverse(info.scale);
  return inv !== 0 ? raw / inv : raw * info.scale;
}

/**
 * Engineering value → raw integer, rounded to the nearest step; VALUE_OUT_OF_RANGE
 * when the value is not finite or the raw integer does not fit the type.
 */
export function toRaw(info: ObjectInfo, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ProtocolError(
      'VALUE_OUT_OF_RANGE',
      `${info.name}: ${String(value)} is not a finite number`,
    );
  }
  let raw: number;
  if (info.scale === 1) raw = Math.round(value);
  else {
    const inv = inverse(info.scale);
    raw = Math.round(inv !== 0 ? value * inv : value / info.scale);
  }
  const spec = TYPE_SPEC[info.type];
  if (raw < spec.min || raw > spec.max) {
    const range = `[${fromRaw(info, spec.min)}, ${fromRaw(info, spec.max)}]`;
    throw new ProtocolError(
      'VALUE_OUT_OF_RANGE',
      `${info.name}: ${value} is outside the ${info.type} range ${range}`,
    );
  }
  return raw === 0 ? 0 : raw; // no -0 on the wire
}

/** Two's complement: an unsigned wire integer of `type` → its signed value when signed. */
export function signed(type: ObjectType, unsigned: number): number {
  const spec = TYPE_SPEC[type];
  if (!spec.signed) return unsigned;
  const bits = spec.bytes * 8;
  const half = 2 ** (bits - 1);
  return unsigned >= half ? unsigned - 2 ** bits : unsigned;
}

/** A raw integer of `type` → its unsigned wire form (two's complement for negatives). */
export function unsigned(type: ObjectType, raw: number): number {
  const bits = TYPE_SPEC[type].bytes * 8;
  return raw < 0 ? raw + 2 ** bits : raw;
}
