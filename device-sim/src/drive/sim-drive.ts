/**
 * One simulated CiA 402 servo drive: the power state machine driven by controlword
 * writes, the operating modes (profile position, profile velocity, homing, cyclic
 * synchronous position), motion physics, monitoring faults with their 0x603F codes,
 * and injected faults. Its object dictionary is addressed by name (the names of the
 * drive profiles: `controlword`, `positionActual`, …); a protocol slave maps those to
 * registers or control-table bytes through the profile.
 */
import { cia402 } from '../../../firmware-protocol/src/index.ts';
import type { Rng } from '../rng.ts';
import {
  DEFAULT_MOTOR,
  initialMotor,
  type MotorInput,
  type MotorParams,
  type MotorState,
  stepMotor,
} from './motor.ts';
import { type SetPoint, stepPosition, stepVelocity } from './trajectory.ts';

const S = cia402.Cia402State;
type State = cia402.Cia402State;

export type WriteResult = 'ok' | 'unknown' | 'read-only' | 'range';

export interface SimDriveOptions {
  id: string;
  unit: number;
  rng: Rng;
  motor?: Partial<MotorParams>;
  /** Mechanical position of the home switch, counts. */
  homeSwitch?: number;
  /** Following error window (0x6065), counts. */
  followingErrorWindow?: number;
  /** Position window for target reached (0x6067), counts. */
  positionWindow?: number;
  /** Quick stop deceleration (0x6085), counts/s². */
  quickStopDeceleration?: number;
  /** Temperature at which the drive faults with 0x4310, °C. */
  maxTemperature?: number;
  /** DC bus voltage at which the drive faults with 0x3210, V. */
  maxBusVoltage?: number;
}

/** What a fault injection can do to a drive, beyond raising a fault code. */
export interface DriveDisturbance {
  /** External load torque, ‰ of rated. */
  loadTorque: number;
  /** Added DC bus voltage, V. */
  busOffset: number;
  /** Encoder lost: position actual freezes and the drive faults with 0x7305 when powered. */
  encoderLost: boolean;
}

/** Supported modes of operation (0x6060): others are refused with "value out of range". */
const SUPPORTED_MODES = new Set<number>([
  cia402.Mode.PP,
  cia402.Mode.PV,
  cia402.Mode.HOMING,
  cia402.Mode.CSP,
]);

const POWERED = new Set<State>([S.OPERATION_ENABLED, S.QUICK_STOP_ACTIVE, S.FAULT_REACTION_ACTIVE]);

// Controlword bits, CiA 402 §6.1.1 (0x6040).
const CW_NEW_SETPOINT = 1 << 4;
const CW_RELATIVE = 1 << 6;
const CW_HALT = 1 << 8;

const WRITABLE = new Set([
  'controlword',
  'modesOfOperation',
  'targetPosition',
  'targetVelocity',
  'profileVelocity',
  'profileAcceleration',
  'profileDeceleration',
  'targetTorque',
]);

export class SimDrive {
  readonly id: string;
  readonly unit: number;
  readonly disturbance: DriveDisturbance = { loadTorque: 0, busOffset: 0, encoderLost: false };

  #rng: Rng;
  #motorParams: MotorParams;
  #motor: MotorState;
  #input: MotorInput = {
    powered: false,
    setPosition: 0,
    setVelocity: 0,
    setAcceleration: 0,
    loadTorque: 0,
    busOffset: 0,
  };
  #sp: SetPoint = { position: 0, velocity: 0 };
  #state: State = S.SWITCH_ON_DISABLED;
  #controlword = 0;
  #mode: number = cia402.Mode.PP;
  #targetPosition = 0;
  #targetVelocity = 0;
  #targetTorque = 0;
  #profileVelocity = 10_000;
  #profileAcceleration = 100_000;
  #profileDeceleration = 100_000;
  /** Position target of the move in progress (profile position), or null when holding. */
  #ppTarget: number | null = null;
  #setpointAck = false;
  #homing: 'idle' | 'seeking' | 'done' = 'idle';
  /** Mechanical position minus reported position (set by homing). */
  #offset = 0;
  #frozenPosition = 0;
  /** Seconds spent in FAULT_REACTION_ACTIVE. */
  #reactionS = 0;
  #errorCode = 0;
  #followingError = false;
  #homeSwitch: number;
  #followingWindow: number;
  #positionWindow: number;
  #quickStopDecel: number;
  #maxTemperature: number;
  #maxBusVoltage: number;

  constructor(opts: SimDriveOptions) {
    this.id = opts.id;
    this.unit = opts.unit;
    this.#rng = opts.rng;
    this.#motorParams = { ...DEFAULT_MOTOR, ...opts.motor };
    this.#motor = initialMotor(this.#motorParams);
    this.#homeSwitch = opts.homeSwitch ?? -2000;
    this.#followingWindow = opts.followingErrorWindow ?? 5000;
    this.#positionWindow = opts.positionWindow ?? 10;
    this.#quickStopDecel = opts.quickStopDeceleration ?? 2_000_000;
    this.#maxTemperature = opts.maxTemperature ?? 90;
    this.#maxBusVoltage = opts.maxBusVoltage ?? 60;
  }

  get state(): State {
    return this.#state;
  }

  /** Read an object by profile name, in engineering units; undefined if the drive has no such object. */
  read(name: string): number | undefined {
    switch (name) {
      case 'controlword':
        return this.#controlword;
      case 'statusword':
        return this.statusword();
      case 'modesOfOperation':
        return this.#mode;
      case 'modesOfOperationDisplay':
        return this.#mode;
      case 'targetPosition':
        return this.#targetPosition;
      case 'positionActual':
        return this.positionActual();
      case 'targetVelocity':
        return this.#targetVelocity;
      case 'velocityActual':
        return this.disturbance.encoderLost ? 0 : Math.round(this.#motor.velocity);
      case 'profileVelocity':
        return this.#profileVelocity;
      case 'profileAcceleration':
        return this.#profileAcceleration;
      case 'profileDeceleration':
        return this.#profileDeceleration;
      case 'targetTorque':
        return this.#targetTorque;
      case 'torqueActual':
        return Math.round(this.#motor.torque);
      case 'errorCode':
        return this.#errorCode;
      case 'temperature':
        return Math.round(this.#motor.temperature * 10) / 10;
      case 'dcBusVoltage':
        return Math.round(this.#motor.busVoltage * 10) / 10;
      case 'current':
        return this.#motor.current;
      default:
        return undefined;
    }
  }

  /** Write an object by profile name. The value is already range-checked for its type. */
  write(name: string, value: number): WriteResult {
    if (!WRITABLE.has(name)) return this.read(name) === undefined ? 'unknown' : 'read-only';
    switch (name) {
      case 'controlword':
        this.#onControlword(value);
        return 'ok';
      case 'modesOfOperation':
        if (!SUPPORTED_MODES.has(value)) return 'range';
        if (value !== this.#mode) {
          this.#mode = value;
          this.#ppTarget = null;
          this.#homing = 'idle';
          this.#setpointAck = false;
        }
        return 'ok';
      case 'targetPosition':
        this.#targetPosition = value;
        return 'ok';
      case 'targetVelocity':
        this.#targetVelocity = value;
        return 'ok';
      case 'targetTorque':
        this.#targetTorque = value;
        return 'ok';
      case 'profileVelocity':
      case 'profileAcceleration':
      case 'profileDeceleration':
        if (value <= 0) return 'range';
        if (name === 'profileVelocity') this.#profileVelocity = value;
        else if (name === 'profileAcceleration') this.#profileAcceleration = value;
        else this.#profileDeceleration = value;
        return 'ok';
    }
    return 'unknown';
  }

  statusword(): number {
    return cia402.encodeStatusword(this.#state, {
      voltageEnabled: true,
      remote: true,
      warning: this.#motor.temperature > this.#maxTemperature - 10,
      targetReached: this.#targetReached(),
      setpointAck: this.#mode === cia402.Mode.HOMING ? this.#homing === 'done' : this.#setpointAck,
      followingError: this.#followingError,
    });
  }

  positionActual(): number {
    if (this.disturbance.encoderLost) return this.#frozenPosition;
    return Math.round(this.#motor.position - this.#offset);
  }

  /** Raise a drive fault (monitoring or injected): fault reaction if powered, then FAULT. */
  raiseFault(code: number): void {
    if (this.#state === S.FAULT || this.#state === S.FAULT_REACTION_ACTIVE) return;
    this.#errorCode = code;
    this.#ppTarget = null;
    this.#enter(POWERED.has(this.#state) ? S.FAULT_REACTION_ACTIVE : S.FAULT);
  }

  /** Advance physics and monitoring by `dt` seconds. */
  step(dt: number): void {
    const m = this.#motor;
    const lim = this.#limits();
    switch (this.#state) {
      case S.OPERATION_ENABLED:
        this.#stepMode(dt, lim);
        break;
      case S.QUICK_STOP_ACTIVE:
      case S.FAULT_REACTION_ACTIVE:
        this.#sp = stepVelocity(this.#sp, 0, { ...lim, deceleration: this.#quickStopDecel }, dt);
        if (this.#state === S.FAULT_REACTION_ACTIVE) {
          this.#reactionS += dt;
          // CiA 402 transition 14: fault reaction completed when the axis stands still,
          // or after at most 0.5 s (a load the drive cannot hold: power off, brake on).
          const stopped = this.#sp.velocity === 0 && Math.abs(m.velocity) < 50;
          if (stopped || this.#reactionS >= 0.5) this.#enter(S.FAULT);
        }
        break;
      default:
        this.#sp.position = m.position;
        this.#sp.velocity = 0;
    }
    const before = this.#sp.velocity;
    const inp = this.#input;
    inp.powered = POWERED.has(this.#state);
    inp.setPosition = this.#sp.position;
    inp.setVelocity = this.#sp.velocity;
    inp.setAcceleration = (this.#sp.velocity - before) / dt;
    inp.loadTorque = this.disturbance.loadTorque;
    inp.busOffset = this.disturbance.busOffset;
    stepMotor(m, inp, this.#motorParams, dt, this.#rng);
    if (!this.disturbance.encoderLost) this.#frozenPosition = Math.round(m.position - this.#offset);
    this.#monitor();
  }

  /** Everything the simulator knows about the drive, for `GET /sim/drives`. */
  snapshot() {
    return {
      id: this.id,
      unit: this.unit,
      state: this.#state,
      statusword: this.statusword(),
      controlword: this.#controlword,
      mode: cia402.modeName(this.#mode) ?? String(this.#mode),
      position: this.positionActual(),
      mechanicalPosition: this.#motor.position,
      velocity: this.#motor.velocity,
      setPoint: { ...this.#sp },
      target: this.#ppTarget,
      torque: this.#motor.torque,
      current: this.#motor.current,
      temperature: this.#motor.temperature,
      busVoltage: this.#motor.busVoltage,
      errorCode: this.#errorCode,
      homed: this.#homing === 'done',
      disturbance: { ...this.disturbance },
    };
  }

  #limits() {
    return {
      velocity: this.#profileVelocity,
      acceleration: this.#profileAcceleration,
      deceleration: this.#profileDeceleration,
    };
  }

  #onControlword(cw: number): void {
    const prev = this.#controlword;
    this.#controlword = cw;
    const cmd = cia402.decodeControlCommand(cw, prev);
    if (cmd === 'FAULT_RESET') {
      // CiA 402 transition 15: fault reset leaves FAULT only when the cause is gone.
      if (this.#state === S.FAULT && !this.#faultPersists()) {
        this.#errorCode = 0;
        this.#followingError = false;
        this.#enter(S.SWITCH_ON_DISABLED);
      }
    } else if (cmd !== null) {
      const next = cia402.applyCommand(this.#state, cmd);
      if (next !== null && next !== this.#state) this.#enter(next);
    }
    if (this.#state !== S.OPERATION_ENABLED) {
      this.#setpointAck = false;
      return;
    }
    const rising = (cw & CW_NEW_SETPOINT) !== 0 && (prev & CW_NEW_SETPOINT) === 0;
    const falling = (cw & CW_NEW_SETPOINT) === 0 && (prev & CW_NEW_SETPOINT) !== 0;
    if (this.#mode === cia402.Mode.PP) {
      // CiA 402 §12.2 profile position: bit 4 rising edge takes the new set-point,
      // bit 12 acknowledges it until bit 4 goes low again; bit 6 makes it relative.
      if (rising) {
        const base = this.#ppTarget ?? Math.round(this.#sp.position - this.#offset);
        const target = cw & CW_RELATIVE ? base + this.#targetPosition : this.#targetPosition;
        this.#ppTarget = target;
        this.#setpointAck = true;
      } else if (falling) {
        this.#setpointAck = false;
      }
    } else if (this.#mode === cia402.Mode.HOMING && rising) {
      this.#homing = 'seeking';
    }
  }

  #enter(next: State): void {
    const wasPowered = POWERED.has(this.#state);
    this.#state = next;
    if (next === S.FAULT_REACTION_ACTIVE) this.#reactionS = 0;
    if (next === S.QUICK_STOP_ACTIVE || next === S.FAULT_REACTION_ACTIVE) {
      this.#ppTarget = null;
      if (this.#homing === 'seeking') this.#homing = 'idle';
    }
    if (next === S.OPERATION_ENABLED && !wasPowered) {
      // Take over where the axis is: no jump on enable.
      this.#sp = { position: this.#motor.position, velocity: 0 };
      this.#ppTarget = null;
    }
  }

  #stepMode(
    dt: number,
    lim: { velocity: number; acceleration: number; deceleration: number },
  ): void {
    if (this.#controlword & CW_HALT) {
      this.#sp = stepVelocity(this.#sp, 0, lim, dt);
      return;
    }
    switch (this.#mode) {
      case cia402.Mode.PP:
        if (this.#ppTarget !== null) {
          this.#sp = stepPosition(this.#sp, this.#ppTarget + this.#offset, lim, dt);
        } else {
          this.#sp = stepVelocity(this.#sp, 0, lim, dt);
        }
        break;
      case cia402.Mode.PV:
        this.#sp = stepVelocity(this.#sp, this.#targetVelocity, lim, dt);
        break;
      case cia402.Mode.HOMING:
        this.#stepHoming(dt, lim);
        break;
      case cia402.Mode.CSP: {
        // Cyclic synchronous position: the master's target is the set-point.
        const p = this.#targetPosition + this.#offset;
        this.#sp = { position: p, velocity: (p - this.#sp.position) / dt };
        break;
      }
    }
  }

  #stepHoming(
    dt: number,
    lim: { velocity: number; acceleration: number; deceleration: number },
  ): void {
    if (this.#homing !== 'seeking') {
      this.#sp = stepVelocity(this.#sp, 0, lim, dt);
      return;
    }
    const before = this.#sp.position;
    this.#sp = stepPosition(this.#sp, this.#homeSwitch, lim, dt);
    const crossed = (before - this.#homeSwitch) * (this.#sp.position - this.#homeSwitch) <= 0;
    if (crossed && this.#sp.velocity === 0) {
      // The switch is the new zero (homing method 35-like: current position = home).
      this.#offset = this.#homeSwitch;
      this.#homing = 'done';
    }
  }

  #targetReached(): boolean {
    if (this.#state !== S.OPERATION_ENABLED) return false;
    const m = this.#motor;
    const still = Math.abs(m.velocity) < 100 && this.#sp.velocity === 0;
    if (this.#controlword & CW_HALT) return still;
    switch (this.#mode) {
      case cia402.Mode.PP:
        if (this.#ppTarget === null) return still;
        return (
          Math.abs(this.#ppTarget + this.#offset - m.position) <= this.#positionWindow && still
        );
      case cia402.Mode.PV:
        return (
          Math.abs(this.#targetVelocity - m.velocity) <
          Math.max(100, Math.abs(this.#targetVelocity) * 0.01)
        );
      case cia402.Mode.HOMING:
        return this.#homing === 'done' && still;
      default:
        return Math.abs(this.#sp.position - m.position) <= this.#positionWindow;
    }
  }

  #faultPersists(): boolean {
    return (
      this.#motor.temperature >= this.#maxTemperature - 5 ||
      this.#motor.busVoltage >= this.#maxBusVoltage ||
      this.disturbance.encoderLost
    );
  }

  #monitor(): void {
    const m = this.#motor;
    if (m.temperature >= this.#maxTemperature) this.raiseFault(cia402.ErrorCode.OVERTEMPERATURE);
    if (m.busVoltage >= this.#maxBusVoltage) this.raiseFault(cia402.ErrorCode.OVERVOLTAGE);
    if (!POWERED.has(this.#state)) return;
    if (this.disturbance.encoderLost) this.raiseFault(cia402.ErrorCode.ENCODER);
    if (
      this.#state === S.OPERATION_ENABLED &&
      Math.abs(this.#sp.position - m.position) > this.#followingWindow
    ) {
      this.#followingError = true;
      this.raiseFault(cia402.ErrorCode.FOLLOWING_ERROR);
    }
  }
}
