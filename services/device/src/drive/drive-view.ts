/**
 * The normalised drive view: whatever the protocol, a drive is a CiA 402 state, a
 * mode, position, velocity, torque, temperature, voltage, target reached and a fault.
 *
 * Two kinds of profile map onto it, told apart by the objects they define:
 * - CiA 402 (a `statusword` object: sf-servo, kinco-fd): the statusword decodes to the
 *   state (CiA 402 §6.1.2), bit 10 is target reached, 0x603F the fault code.
 * - Dynamixel X series (a `torqueEnable` object: xm430): torque enable ≈ operation
 *   enabled, Hardware Error Status ≈ fault (mapped onto the nearest 0x603F code),
 *   Moving = 0 near the goal ≈ target reached.
 */
import { cia402, type profiles } from '../../../../firmware-protocol/src/index.ts';
import type { CommandType } from '../../../contract/src/index.ts';

export type DriveKind = 'cia402' | 'dynamixel';

export interface DriveFault {
  code: number;
  hex: string;
  text: string;
}

export interface NormalState {
  cia402: cia402.Cia402State;
  mode: cia402.ModeName | null;
  position: number;
  velocity: number;
  torque: number;
  temperature: number;
  voltage: number;
  targetReached: boolean;
  fault: DriveFault | null;
}

export function driveKind(profile: profiles.DriveProfile): DriveKind {
  if ('statusword' in profile.objects && 'controlword' in profile.objects) return 'cia402';
  if ('torqueEnable' in profile.objects && 'presentPosition' in profile.objects) return 'dynamixel';
  throw new Error(
    `profile ${profile.name} is neither CiA 402 (statusword, controlword) nor Dynamixel X (torqueEnable, presentPosition)`,
  );
}

/** The commands each kind of drive takes. */
export const COMMANDS_BY_KIND: Record<DriveKind, readonly CommandType[]> = {
  cia402: [
    'enable',
    'disable',
    'quickStop',
    'resetFault',
    'moveTo',
    'jog',
    'stop',
    'home',
    'setMode',
  ],
  dynamixel: ['enable', 'disable', 'quickStop', 'resetFault', 'moveTo', 'stop'],
};

const TARGET_REACHED = 1 << cia402.StatuswordBit.TargetReached;

function fault(code: number): DriveFault {
  const d = cia402.describeErrorCode(code);
  return { code: d.code, hex: d.hex, text: d.text };
}

export function normalizeCia402(v: Readonly<Record<string, number>>): NormalState {
  const sw = v.statusword ?? 0;
  const state = cia402.decodeStatusword(sw);
  const faulted = state === 'FAULT' || state === 'FAULT_REACTION_ACTIVE';
  const code = v.errorCode ?? 0;
  const modeNumber = v.modesOfOperationDisplay ?? v.modesOfOperation;
  return {
    cia402: state,
    mode: modeNumber === undefined ? null : cia402.modeName(modeNumber),
    position: v.positionActual ?? 0,
    velocity: v.velocityActual ?? 0,
    torque: v.torqueActual ?? 0,
    temperature: v.temperature ?? 0,
    voltage: v.dcBusVoltage ?? 0,
    targetReached: (sw & TARGET_REACHED) !== 0,
    fault: faulted ? fault(code === 0 ? 0xff00 : code) : null,
  };
}

/** Hardware Error Status bits (XM430 e-Manual, address 70) → nearest CiA 402 error code. */
const DXL_HW: [bit: number, code: number, text: string][] = [
  [0x04, cia402.ErrorCode.OVERTEMPERATURE, 'Dynamixel overheating'],
  [0x08, cia402.ErrorCode.ENCODER, 'Dynamixel motor encoder error'],
  [0x10, cia402.ErrorCode.OVERCURRENT, 'Dynamixel electrical shock'],
  [0x01, cia402.ErrorCode.OVERVOLTAGE, 'Dynamixel input voltage error'],
  [0x20, cia402.ErrorCode.FOLLOWING_ERROR, 'Dynamixel overload'],
];

/** Within this many counts of the goal with Moving = 0, the target is reached. */
const DXL_POSITION_WINDOW = 20;

export function normalizeDynamixel(v: Readonly<Record<string, number>>): NormalState {
  const hw = v.hardwareErrorStatus ?? 0;
  let f: DriveFault | null = null;
  if (hw !== 0) {
    const hit = DXL_HW.find(([bit]) => (hw & bit) !== 0);
    f = hit
      ? { ...fault(hit[1]), text: hit[2] }
      : { ...fault(0xff00), text: `Dynamixel hardware error 0x${hw.toString(16)}` };
  }
  const enabled = (v.torqueEnable ?? 0) === 1;
  const position = v.presentPosition ?? 0;
  return {
    cia402: f ? 'FAULT' : enabled ? 'OPERATION_ENABLED' : 'SWITCH_ON_DISABLED',
    mode: 'PP',
    position,
    velocity: Math.round(v.presentVelocity ?? 0),
    torque: Math.round((v.presentCurrent ?? 0) * 10) / 10,
    temperature: v.presentTemperature ?? 0,
    voltage: v.presentInputVoltage ?? 0,
    targetReached:
      (v.moving ?? 0) === 0 &&
      Math.abs((v.goalPosition ?? position) - position) <= DXL_POSITION_WINDOW,
    fault: f,
  };
}

export function normalizer(kind: DriveKind): (v: Readonly<Record<string, number>>) => NormalState {
  return kind === 'cia402' ? normalizeCia402 : normalizeDynamixel;
}

/**
 * True when two views agree on what a controller acts on: the CiA 402 state, the mode,
 * target reached and the fault (the measured values may differ).
 */
export function sameDiscrete(a: NormalState, b: NormalState): boolean {
  return (
    a.cia402 === b.cia402 &&
    a.mode === b.mode &&
    a.targetReached === b.targetReached &&
    (a.fault?.code ?? null) === (b.fault?.code ?? null)
  );
}

/** True when two views differ in anything but noise-free equality of every field. */
export function sameState(a: NormalState, b: NormalState): boolean {
  return (
    a.cia402 === b.cia402 &&
    a.mode === b.mode &&
    a.position === b.position &&
    a.velocity === b.velocity &&
    a.torque === b.torque &&
    a.temperature === b.temperature &&
    a.voltage === b.voltage &&
    a.targetReached === b.targetReached &&
    (a.fault?.code ?? null) === (b.fault?.code ?? null)
  );
}
