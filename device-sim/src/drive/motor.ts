/**
 * Motor, load and power stage of a simulated servo axis, integrated at a fixed step.
 * A PD position loop with feed-forward tracks the trajectory set-point; the torque it
 * asks for is limited to the peak torque, so a stalled or overloaded axis really falls
 * behind (following error). Current follows torque; the winding heats with current²
 * and cools toward ambient; the DC bus sags under load and rises when braking.
 */
import type { Rng } from '../rng.ts';

export interface MotorParams {
  /** Acceleration the rated torque gives the unloaded axis, counts/s². */
  ratedAcceleration: number;
  /** Peak torque, ‰ of rated. */
  peakTorque: number;
  /** Viscous friction, ‰ per count/s. */
  viscous: number;
  /** Coulomb friction while moving, ‰. */
  coulomb: number;
  /** Rated current, A. */
  ratedCurrent: number;
  /** Closed-loop bandwidth of the position loop, Hz. */
  bandwidthHz: number;
  /** °C above ambient at rated current, steady state. */
  thermalRise: number;
  /** Thermal time constant, s. */
  thermalTau: number;
  ambient: number;
  /** Nominal DC bus, V. */
  busVoltage: number;
}

export const DEFAULT_MOTOR: MotorParams = {
  ratedAcceleration: 1_000_000,
  peakTorque: 3000,
  viscous: 0.002,
  coulomb: 20,
  ratedCurrent: 5,
  bandwidthHz: 30,
  thermalRise: 40,
  thermalTau: 300,
  ambient: 25,
  busVoltage: 48,
};

export interface MotorState {
  position: number; // counts
  velocity: number; // counts/s
  torque: number; // ‰ of rated
  current: number; // A
  temperature: number; // °C
  busVoltage: number; // V
}

export function initialMotor(p: MotorParams): MotorState {
  return {
    position: 0,
    velocity: 0,
    torque: 0,
    current: 0,
    temperature: p.ambient,
    busVoltage: p.busVoltage,
  };
}

export interface MotorInput {
  /** Power stage on (OPERATION_ENABLED, QUICK_STOP_ACTIVE, FAULT_REACTION_ACTIVE). */
  powered: boolean;
  /** Set-point to track when powered. */
  setPosition: number;
  setVelocity: number;
  setAcceleration: number;
  /** External load torque, ‰ of rated (a scenario's load change). */
  loadTorque: number;
  /** Extra bus voltage, V (an injected over-voltage or a regenerating load). */
  busOffset: number;
}

/** Advance the motor by `dt` seconds. Mutates and returns `s` (hot path: no allocation). */
export function stepMotor(
  s: MotorState,
  inp: MotorInput,
  p: MotorParams,
  dt: number,
  rng: Rng,
): MotorState {
  const wn = 2 * Math.PI * p.bandwidthHz;
  const friction = s.velocity * p.viscous + Math.sign(s.velocity) * p.coulomb;
  let torque = 0;
  if (inp.powered) {
    // Critically damped PD with acceleration feed-forward, expressed as torque.
    const accCmd =
      wn * wn * (inp.setPosition - s.position) +
      2 * wn * (inp.setVelocity - s.velocity) +
      inp.setAcceleration;
    torque = (accCmd * 1000) / p.ratedAcceleration + friction + inp.loadTorque;
    if (torque > p.peakTorque) torque = p.peakTorque;
    else if (torque < -p.peakTorque) torque = -p.peakTorque;
  }
  // Unpowered, the holding brake keeps the load from moving the axis; it only coasts down.
  const net = inp.powered ? torque - friction - inp.loadTorque : -friction;
  const acc = (net * p.ratedAcceleration) / 1000;
  let v = s.velocity + acc * dt;
  // Friction stops an axis; it never reverses it.
  if (!inp.powered && s.velocity !== 0 && Math.sign(v) !== Math.sign(s.velocity)) v = 0;
  s.velocity = v;
  s.position += v * dt;
  s.torque = torque;
  s.current = (Math.abs(torque) / 1000) * p.ratedCurrent;
  // dT/dt = (rise·(I/Irated)² − (T − ambient)) / τ
  const i = s.current / p.ratedCurrent;
  s.temperature += ((p.thermalRise * i * i - (s.temperature - p.ambient)) / p.thermalTau) * dt;
  // The bus sags with the current drawn and rises when braking (power flowing back).
  const power = (torque * v) / 1e6;
  s.busVoltage = p.busVoltage + inp.busOffset - 0.05 * s.current + rng.gaussian() * 0.02;
  if (power < 0) s.busVoltage += Math.min(8, -power * 0.02);
  return s;
}
