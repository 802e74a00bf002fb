/**
 * Online trapezoidal trajectory generator: each step moves the set-point velocity
 * toward the fastest speed from which the drive can still stop at the target with the
 * profile deceleration, limited by profile velocity and acceleration. It honours a
 * target changed mid-move (CiA 402 "change set immediately") without a jump.
 * Pure: state in, state out.
 */

export interface SetPoint {
  /** Set-point position, counts (fractional inside the generator). */
  position: number;
  /** Set-point velocity, counts/s. */
  velocity: number;
}

export interface ProfileLimits {
  velocity: number; // counts/s, > 0
  acceleration: number; // counts/s², > 0
  deceleration: number; // counts/s², > 0
}

/** One step of `dt` seconds toward `target` position. Returns the new set-point. */
export function stepPosition(
  sp: SetPoint,
  target: number,
  lim: ProfileLimits,
  dt: number,
): SetPoint {
  const remaining = target - sp.position;
  const dir = Math.sign(remaining);
  // Speed from which we can still stop at the target: v² = 2·d·s.
  const vStop = Math.sqrt(2 * lim.deceleration * Math.abs(remaining));
  const vWanted = dir * Math.min(lim.velocity, vStop);
  const velocity = approach(sp.velocity, vWanted, lim, dt);
  let position = sp.position + velocity * dt;
  // Land exactly: once the step would cross the target at low speed, snap to it.
  if ((target - position) * dir <= 0 && Math.abs(velocity) <= lim.deceleration * dt * 2) {
    return { position: target, velocity: 0 };
  }
  if (remaining === 0 && velocity === 0) position = target;
  return { position, velocity };
}

/** One step toward a target velocity (profile velocity mode, halt, quick stop). */
export function stepVelocity(
  sp: SetPoint,
  targetVelocity: number,
  lim: ProfileLimits,
  dt: number,
): SetPoint {
  const velocity = approach(sp.velocity, targetVelocity, lim, dt);
  return { position: sp.position + velocity * dt, velocity };
}

/** Move `v` toward `wanted`, accelerating with `acceleration` and braking with `deceleration`. */
function approach(v: number, wanted: number, lim: ProfileLimits, dt: number): number {
  const speedingUp = Math.abs(wanted) > Math.abs(v) && Math.sign(wanted) !== -Math.sign(v);
  const rate = (speedingUp ? lim.acceleration : lim.deceleration) * dt;
  if (wanted > v) return Math.min(wanted, v + rate);
  if (wanted < v) return Math.max(wanted, v - rate);
  return v;
}
