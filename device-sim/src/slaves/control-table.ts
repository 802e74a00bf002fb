/**
 * A Dynamixel X-series control table in front of a simulated CiA 402 drive: the
 * XM430 semantics the `xm430` profile names (torque enable ≈ operation enabled,
 * goal position → a profile-position move, hardware error status ≈ fault), with the
 * EEPROM area locked while torque is on, as the real servo does. Addresses and sizes
 * come from the profile, never from constants here.
 *
 * Indirect Address banks (the profile's `indirect`): entry k names a RAM byte (64–661),
 * and Indirect Data byte k reads and writes that byte, with its item's rules (a write
 * must cover the item whole, read-only stays read-only). A reboot sets the entries back
 * to their defaults: each names its own data byte, which is then a plain byte of RAM.
 */
import { cia402, profiles } from '../../../firmware-protocol/src/index.ts';
import type { SimDrive } from '../drive/sim-drive.ts';

type Profile = profiles.DriveProfile;

/** Status error numbers (ROBOTIS Protocol 2.0 e-manual, Status Packet "Error"). */
export const DxlError = {
  RESULT_FAIL: 1,
  DATA_RANGE: 4,
  DATA_LENGTH: 5,
  DATA_LIMIT: 6,
  ACCESS: 7,
} as const;

/** Hardware Error Status bits (XM430 e-manual, address 70). */
const HW = {
  INPUT_VOLTAGE: 0x01,
  OVERHEATING: 0x04,
  ENCODER: 0x08,
  ELECTRICAL_SHOCK: 0x10,
  OVERLOAD: 0x20,
} as const;

/** Size of the emulated control table (XM430: up to Indirect Data 56, address 661). */
export const TABLE_SIZE = 662;
/** Addresses below this are EEPROM: writable only with torque off (XM430 e-manual, "EEPROM area"). */
const EEPROM_END = 64;
/** What "0 = unlimited" means for the simulated servo, counts/s and counts/s². */
const MAX_VELOCITY = 500_000;
const MAX_ACCELERATION = 8_000_000;
/** Below this speed (counts/s) the servo reports Moving = 0. */
const MOVING_THRESHOLD = 16;

export class ControlTable {
  readonly drive: SimDrive;
  readonly profile: Profile;
  readonly bytes = new Uint8Array(TABLE_SIZE);
  readonly firmwareVersion = 46;
  #torqueOn = false;

  constructor(drive: SimDrive, profile: Profile) {
    this.drive = drive;
    this.profile = profile;
    this.#set('modelNumber', profile.modelNumber ?? 0);
    this.#set('id', drive.unit);
    this.#set('baudRate', 3);
    this.#set('returnDelayTime', Math.round((profile.turnaroundMs * 1000) / 2));
    this.#set('operatingMode', 3);
    this.#set('statusReturnLevel', 2);
    this.#set('profileVelocity', 0);
    this.#set('profileAcceleration', 0);
    this.#resetIndirect();
    this.#applyProfile();
  }

  get id(): number {
    return this.#get('id');
  }

  get statusReturnLevel(): number {
    return this.#get('statusReturnLevel');
  }

  /** Return delay in ms (address 9, 2 µs a unit). */
  get returnDelayMs(): number {
    return (this.#get('returnDelayTime') * 2) / 1000;
  }

  /** The alert bit for status packets: set while Hardware Error Status is non-zero. */
  get alert(): boolean {
    return this.#hardwareError() !== 0;
  }

  /** Read `length` bytes from `address`, present values refreshed from the drive. */
  read(address: number, length: number): Uint8Array | number {
    if (length < 1 || address + length > TABLE_SIZE) return DxlError.DATA_LENGTH;
    this.#refresh();
    const out = this.bytes.slice(address, address + length);
    for (const b of this.profile.indirect ?? []) {
      const from = Math.max(address, b.data);
      const to = Math.min(address + length, b.data + b.count);
      for (let a = from; a < to; a++) out[a - address] = this.bytes[this.#target(b, a - b.data)]!;
    }
    return out;
  }

  /** Write `data` at `address`: returns 0 or a status error number; nothing changes on error. */
  write(address: number, data: Uint8Array): number {
    if (data.length < 1 || address + data.length > TABLE_SIZE) return DxlError.DATA_LENGTH;
    // Each byte to the control-table byte it lands on (through Indirect Data), as runs
    // of consecutive addresses; Indirect Address entries apart.
    const runs: { address: number; bytes: number[] }[] = [];
    const entries: { at: number; value: number }[] = [];
    for (let i = 0; i < data.length; i++) {
      const a = address + i;
      const bank = this.profile.indirect?.find(
        (b) => a >= b.address && a < b.address + 2 * b.count,
      );
      if (bank) {
        // A 2-byte entry, written whole, naming a RAM byte.
        if ((a - bank.address) % 2 !== 0 || i + 1 >= data.length) return DxlError.DATA_LENGTH;
        const value = data[i]! | (data[i + 1]! << 8);
        if (value < EEPROM_END || value >= TABLE_SIZE) return DxlError.DATA_RANGE;
        entries.push({ at: a, value });
        i++;
        continue;
      }
      const d = this.profile.indirect?.find((b) => a >= b.data && a < b.data + b.count);
      const target = d ? this.#target(d, a - d.data) : a;
      const last = runs.at(-1);
      if (last && last.address + last.bytes.length === target) last.bytes.push(data[i]!);
      else runs.push({ address: target, bytes: [data[i]!] });
    }
    const values = new Map<string, number>();
    const raw: { at: number; value: number }[] = [];
    for (const r of runs) {
      const err = this.#plan(r.address, Uint8Array.from(r.bytes), values, raw);
      if (err !== 0) return err;
    }
    for (const [name, v] of values) {
      const err = this.#check(name, v);
      if (err !== 0) return err;
    }
    for (const e of entries) {
      this.bytes[e.at] = e.value & 0xff;
      this.bytes[e.at + 1] = e.value >> 8;
    }
    for (const r of raw) this.bytes[r.at] = r.value;
    for (const [name, v] of values) this.#apply(name, v);
    return 0;
  }

  /**
   * The objects a write of `data` at `address` sets (into `values`), or an error. The
   * bytes of an Indirect Data byte naming itself go to `raw`; bytes of no item are
   * ignored.
   */
  #plan(
    address: number,
    data: Uint8Array,
    values: Map<string, number>,
    raw: { at: number; value: number }[],
  ): number {
    for (let a = address; a < address + data.length; ) {
      if (this.profile.indirect?.some((b) => a >= b.data && a < b.data + b.count)) {
        raw.push({ at: a, value: data[a - address]! });
        a++;
        continue;
      }
      const o = profiles.objectAt(this.profile, a);
      if (!o) {
        a++;
        continue;
      }
      const size = profiles.sizeInBytes(o);
      // A write must cover an item whole (ROBOTIS: partial items are a data length error).
      if (o.address < address || o.address + size > address + data.length)
        return DxlError.DATA_LENGTH;
      if (o.access === 'r') return DxlError.ACCESS;
      if (o.address < EEPROM_END && this.#torqueOn) return DxlError.ACCESS;
      values.set(o.name, profiles.decodeBytes(this.profile, o.name, data, address));
      a = o.address + size;
    }
    return 0;
  }

  /** The control-table byte Indirect Data byte `k` of bank `b` stands for. */
  #target(b: { address: number }, k: number): number {
    const at = b.address + 2 * k;
    return this.bytes[at]! | (this.bytes[at + 1]! << 8);
  }

  /** Every Indirect Address entry names its own data byte (the defaults). */
  #resetIndirect(): void {
    for (const b of this.profile.indirect ?? []) {
      for (let k = 0; k < b.count; k++) {
        this.bytes[b.address + 2 * k] = (b.data + k) & 0xff;
        this.bytes[b.address + 2 * k + 1] = (b.data + k) >> 8;
        this.bytes[b.data + k] = 0;
      }
    }
  }

  /** Reboot (instruction 0x08): clears a hardware error, torque off, Indirect Addresses back to their defaults. */
  reboot(): void {
    this.#resetIndirect();
    this.drive.write('controlword', 0x00);
    this.drive.write('controlword', 0x80); // CiA 402: fault reset on the rising edge of bit 7
    this.drive.write('controlword', 0x00);
    this.#torqueOn = false;
    this.#set('torqueEnable', 0);
  }

  #check(name: string, v: number): number {
    switch (name) {
      case 'torqueEnable':
        if (v > 1) return DxlError.DATA_RANGE;
        if (v === 1 && this.#hardwareError() !== 0) return DxlError.RESULT_FAIL;
        return 0;
      case 'operatingMode':
        return [1, 3, 4].includes(v) ? 0 : DxlError.DATA_RANGE;
      case 'goalPosition':
        // Position mode (3) limits goal position to 0–4095 (Min/Max Position Limit defaults).
        return this.#get('operatingMode') === 3 && (v < 0 || v > 4095) ? DxlError.DATA_LIMIT : 0;
      case 'statusReturnLevel':
        return v > 2 ? DxlError.DATA_RANGE : 0;
      case 'id':
        return v > 252 ? DxlError.DATA_RANGE : 0;
      default:
        return 0;
    }
  }

  #apply(name: string, v: number): void {
    this.#set(name, v);
    switch (name) {
      case 'torqueEnable':
        if (v === 1) this.#enable();
        else {
          this.#torqueOn = false;
          this.drive.write('controlword', cia402.Controlword.DISABLE_VOLTAGE);
        }
        break;
      case 'goalPosition':
        if (this.#torqueOn) this.#move(v);
        break;
      case 'profileVelocity':
      case 'profileAcceleration':
        this.#applyProfile();
        break;
    }
  }

  #enable(): void {
    const mode = this.#get('operatingMode') === 1 ? cia402.Mode.PV : cia402.Mode.PP;
    this.drive.write('modesOfOperation', mode);
    // CiA 402 path: shutdown → switch on → enable operation (transitions 2, 3, 4).
    this.drive.write('controlword', cia402.Controlword.SHUTDOWN);
    this.drive.write('controlword', cia402.Controlword.SWITCH_ON);
    this.drive.write('controlword', cia402.Controlword.ENABLE_OPERATION);
    this.#torqueOn = this.drive.state === cia402.Cia402State.OPERATION_ENABLED;
    if (!this.#torqueOn) this.#set('torqueEnable', 0);
    // The servo holds where it is: goal position := present position.
    this.#set('goalPosition', this.drive.positionActual());
  }

  #move(goal: number): void {
    this.drive.write('targetPosition', goal);
    // New set-point, change immediately (controlword bits 4 and 5), then drop bit 4.
    this.drive.write('controlword', cia402.Controlword.ENABLE_OPERATION | 0x30);
    this.drive.write('controlword', cia402.Controlword.ENABLE_OPERATION);
  }

  #applyProfile(): void {
    const v = this.#get('profileVelocity');
    const a = this.#get('profileAcceleration');
    this.drive.write('profileVelocity', Math.round(v === 0 ? MAX_VELOCITY : v));
    const acc = Math.round(a === 0 ? MAX_ACCELERATION : a);
    this.drive.write('profileAcceleration', acc);
    this.drive.write('profileDeceleration', acc);
  }

  #hardwareError(): number {
    const code = this.drive.read('errorCode') ?? 0;
    if (code === 0) return 0;
    const E = cia402.ErrorCode;
    if (code === E.OVERTEMPERATURE) return HW.OVERHEATING;
    if (code === E.ENCODER) return HW.ENCODER;
    if (code === E.OVERVOLTAGE) return HW.INPUT_VOLTAGE;
    if (code === E.OVERCURRENT) return HW.ELECTRICAL_SHOCK;
    return HW.OVERLOAD;
  }

  #refresh(): void {
    const d = this.drive;
    const faulted =
      d.state === cia402.Cia402State.FAULT || d.state === cia402.Cia402State.FAULT_REACTION_ACTIVE;
    if (faulted && this.#torqueOn) {
      // A hardware error switches the torque off (XM430 e-manual, Shutdown).
      this.#torqueOn = false;
      this.#set('torqueEnable', 0);
    }
    this.#set('hardwareErrorStatus', this.#hardwareError());
    const vel = d.read('velocityActual') ?? 0;
    this.#set('moving', Math.abs(vel) > MOVING_THRESHOLD ? 1 : 0);
    // Engineering units through the profile's scales: mA and counts/s.
    this.#set('presentCurrent', clamp((d.read('current') ?? 0) * 1000, -88_000, 88_000));
    this.#set('presentVelocity', vel);
    this.#set('presentPosition', d.positionActual());
    this.#set('presentInputVoltage', clamp(d.read('dcBusVoltage') ?? 0, 0, 6553.5));
    this.#set('presentTemperature', clamp(Math.round(d.read('temperature') ?? 0), 0, 255));
  }

  #get(name: string): number {
    return profiles.decodeBytes(this.profile, name, this.bytes, 0);
  }

  #set(name: string, value: number): void {
    const { address, bytes } = profiles.encodeBytes(this.profile, name, value, {
      allowReadOnly: true,
    });
    this.bytes.set(bytes, address);
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : Math.min(v, hi);
}
