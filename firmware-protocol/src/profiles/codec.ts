/**
 * Encoding and decoding named profile objects: every register or control-table
 * layout goes through here, so no other code hard-codes an address.
 *
 * Modbus: registers are 16-bit numbers (0–0xFFFF), each big-endian on the wire
 * (Modbus Application Protocol V1.1b3 §4.2, done by the PDU codec); a 32-bit object
 * takes two registers in the profile's `wordOrder`.
 * Dynamixel: control-table bytes, little-endian (ROBOTIS e-Manual, Protocol 2.0
 * "Little Endian"), an object's size from its type.
 */
import { ProtocolError } from '../errors.ts';
import type { DriveProfile, ObjectInfo } from './schema.ts';
import {
  fromRaw,
  inverse,
  signed,
  sizeInBytes,
  sizeInRegisters,
  TYPE_SPEC,
  toRaw,
  unsigned,
} from './types.ts';

/** Per profile, its objects by name and by address (built once, on first use). */
interface ProfileIndex {
  readonly byName: ReadonlyMap<string, ObjectInfo>;
  /** Sorted by address. */
  readonly sorted: readonly ObjectInfo[];
}

const INDEX = new WeakMap<DriveProfile, ProfileIndex>();

function indexOf(profile: DriveProfile): ProfileIndex {
  let index = INDEX.get(profile);
  if (index === undefined) {
    const infos = Object.entries(profile.objects).map(([name, o]) => Object.freeze({ ...o, name }));
    index = {
      byName: new Map(infos.map((i) => [i.name, i])),
      sorted: Object.freeze([...infos].sort((a, b) => a.address - b.address)),
    };
    INDEX.set(profile, index);
  }
  return index;
}

/** The object `name` of a profile; PROFILE_UNKNOWN_OBJECT when it has none. */
export function objectInfo(profile: DriveProfile, name: string): ObjectInfo {
  const info = indexOf(profile).byName.get(name);
  if (info === undefined) {
    throw new ProtocolError(
      'PROFILE_UNKNOWN_OBJECT',
      `profile ${profile.name} maps no object '${name}'`,
    );
  }
  return info;
}

/** Every object of a profile, by address. */
export function listObjects(profile: DriveProfile): readonly ObjectInfo[] {
  return indexOf(profile).sorted;
}

/**
 * The object that covers `address` (a register, or a control-table byte), if any:
 * what a slave (the simulator) uses to answer exception 02 for unmapped addresses.
 */
export function objectAt(profile: DriveProfile, address: number): ObjectInfo | undefined {
  const size = profile.protocol === 'modbus-rtu' ? sizeInRegisters : sizeInBytes;
  const sorted = indexOf(profile).sorted;
  // Binary search for the last object starting at or before `address`.
  let lo = 0;
  let hi = sorted.length - 1;
  let found: ObjectInfo | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const o = sorted[mid]!;
    if (o.address <= address) {
      found = o;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found !== undefined && address < found.address + size(found) ? found : undefined;
}

export interface EncodeOptions {
  /**
   * Encode a read-only object too: the drive side (the simulator) puts read-only
   * values into its answers. A master leaves this off and gets PROFILE_READ_ONLY.
   */
  allowReadOnly?: boolean;
}

function writable(profile: DriveProfile, name: string, opts: EncodeOptions): ObjectInfo {
  const info = objectInfo(profile, name);
  if (info.access === 'r' && opts.allowReadOnly !== true) {
    throw new ProtocolError('PROFILE_READ_ONLY', `${profile.name}: '${name}' is read-only`);
  }
  return info;
}

function requireProtocol(profile: DriveProfile, protocol: DriveProfile['protocol']): void {
  if (profile.protocol !== protocol) {
    const use =
      protocol === 'modbus-rtu' ? 'encodeBytes/decodeBytes' : 'encodeRegisters/decodeRegisters';
    throw new ProtocolError(
      'PROFILE_INVALID',
      `profile ${profile.name} is ${profile.protocol}, not ${protocol}: use ${use}`,
    );
  }
}

// ---------------------------------------------------------------- Modbus registers

/**
 * The registers to write for `value` (engineering units): scaled (value / scale,
 * rounded), range-checked for the type (VALUE_OUT_OF_RANGE), in the profile's word
 * order. PROFILE_READ_ONLY for an `access: r` object unless `allowReadOnly`.
 */
export function encodeRegisters(
  profile: DriveProfile,
  name: string,
  value: number,
  opts: EncodeOptions = {},
): { address: number; registers: number[] } {
  requireProtocol(profile, 'modbus-rtu');
  const info = writable(profile, name, opts);
  const u = unsigned(info.type, toRaw(info, value));
  if (sizeInRegisters(info) === 1) return { address: info.address, registers: [u] };
  const high = Math.floor(u / 0x10000);
  const low = u % 0x10000;
  const registers = profile.wordOrder === 'low-first' ? [low, high] : [high, low];
  return { address: info.address, registers };
}

/**
 * Reads object `name` out of `registers`, a block read from `baseAddress`:
 * word order, sign and scale applied. VALUE_OUT_OF_RANGE when the block does not
 * cover the object or holds a value that is not a 16-bit register.
 */
export function decodeRegisters(
  profile: DriveProfile,
  name: string,
  registers: ArrayLike<number>,
  baseAddress: number,
): number {
  requireProtocol(profile, 'modbus-rtu');
  const info = objectInfo(profile, name);
  const offset = covered(info, sizeInRegisters(info), registers.length, baseAddress, 'register');
  const first = register(registers, offset);
  if (sizeInRegisters(info) === 1) return fromRaw(info, signed(info.type, first));
  const second = register(registers, offset + 1);
  const [high, low] = profile.wordOrder === 'low-first' ? [second, first] : [first, second];
  return fromRaw(info, signed(info.type, high * 0x10000 + low));
}

function register(registers: ArrayLike<number>, i: number): number {
  const r = registers[i]!;
  if (!Number.isInteger(r) || r < 0 || r > 0xffff) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `register value ${r} is not 0–0xFFFF`);
  }
  return r;
}

/** Offset of `info` in a block of `length` units at `base`, or VALUE_OUT_OF_RANGE. */
function covered(
  info: ObjectInfo,
  size: number,
  length: number,
  base: number,
  unit: string,
): number {
  const offset = info.address - base;
  if (offset < 0 || offset + size > length) {
    const span =
      size === 1 ? hex(info.address) : `${hex(info.address)}–${hex(info.address + size - 1)}`;
    throw new ProtocolError(
      'VALUE_OUT_OF_RANGE',
      `'${info.name}' (${unit} ${span}) is not inside the block of ${length} ${unit}s at ${hex(base)}`,
    );
  }
  return offset;
}

const hex = (n: number) => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;

// ------------------------------------------------------------- Dynamixel bytes

/** The control-table bytes to write for `value`, little-endian; checks as `encodeRegisters`. */
export function encodeBytes(
  profile: DriveProfile,
  name: string,
  value: number,
  opts: EncodeOptions = {},
): { address: number; bytes: Uint8Array } {
  requireProtocol(profile, 'dynamixel2');
  const info = writable(profile, name, opts);
  let u = unsigned(info.type, toRaw(info, value));
  const bytes = new Uint8Array(TYPE_SPEC[info.type].bytes);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = u % 0x100;
    u = Math.floor(u / 0x100);
  }
  return { address: info.address, bytes };
}

/**
 * A decoder of every object in `names` out of control-table bytes read from
 * `baseAddress` (`length` of them): the lookups and range checks of `decodeBytes` done
 * once, here, so that decoding a poll is only the arithmetic. Same values, same
 * errors (thrown here, for an object outside the block).
 */
export function bytesDecoder(
  profile: DriveProfile,
  names: readonly string[],
  baseAddress: number,
  length: number,
  offsets?: readonly number[],
): (bytes: Uint8Array) => Record<string, number> {
  requireProtocol(profile, 'dynamixel2');
  // `offsets` (bytes read through Indirect Data): where each object's bytes are instead.
  if (offsets !== undefined && offsets.length !== names.length) {
    throw new ProtocolError(
      'VALUE_OUT_OF_RANGE',
      `${names.length} objects, ${offsets.length} offsets`,
    );
  }
  // As decodeBytes: the bytes little-endian, two's complement (`signed`), then scaled
  // (`fromRaw`: ÷ the inverse of the scale when that is an integer, else × the scale).
  const fields = names.map((name, k) => {
    const info = objectInfo(profile, name);
    const size = sizeInBytes(info);
    const at = offsets?.[k];
    const offset =
      at === undefined
        ? covered(info, size, length, baseAddress, 'byte')
        : covered({ ...info, address: baseAddress + at }, size, length, baseAddress, 'byte');
    const spec = TYPE_SPEC[info.type];
    return {
      name,
      size,
      offset,
      half: spec.signed ? 2 ** (size * 8 - 1) : Number.POSITIVE_INFINITY,
      full: 2 ** (size * 8),
      scale: info.scale,
      inv: info.scale === 1 ? 1 : inverse(info.scale),
    };
  });
  const n = fields.length;
  return (bytes) => {
    const out: Record<string, number> = {};
    for (let k = 0; k < n; k++) {
      const f = fields[k]!;
      let u = 0;
      for (let i = f.size - 1; i >= 0; i--) u = u * 0x100 + bytes[f.offset + i]!;
      const raw = u >= f.half ? u - f.full : u;
      out[f.name] = f.scale === 1 ? raw : f.inv !== 0 ? raw / f.inv : raw * f.scale;
    }
    return out;
  };
}

/** Reads object `name` out of control-table `bytes` read from `baseAddress`. */
export function decodeBytes(
  profile: DriveProfile,
  name: string,
  bytes: Uint8Array,
  baseAddress: number,
): number {
  requireProtocol(profile, 'dynamixel2');
  const info = objectInfo(profile, name);
  const size = sizeInBytes(info);
  const offset = covered(info, size, bytes.length, baseAddress, 'byte');
  let u = 0;
  for (let i = size - 1; i >= 0; i--) u = u * 0x100 + bytes[offset + i]!;
  return fromRaw(info, signed(info.type, u));
}
