/**
 * What a poll reads: the profile's `poll` objects (default: every object), merged by
 * `profiles.planReads` into as few contiguous reads as the limits allow. EdgeX
 * device-modbus reads each register on its own (DESIGN.md "What the anchors get
 * wrong").
 *
 * Modbus: adjacent registers only (planReads' default; unmapped registers answer
 * exception 02). Dynamixel: a control table reads anywhere, and what a second read
 * costs is dominated by the servo's return delay (0.5 ms by default, 50 bytes of wire
 * time at 1 Mbaud) on top of ~25 bytes of packets; so holes up to that many bytes are
 * read through: the xm430 poll list (addresses 64–146) becomes one read of 83 bytes.
 */
import { profiles } from '../../../../firmware-protocol/src/index.ts';

export function pollNames(profile: profiles.DriveProfile): string[] {
  return profile.poll ? [...profile.poll] : profiles.listObjects(profile).map((o) => o.name);
}

/** `charMs`: one character on this line, ms (sizes the Dynamixel hole allowance). */
export function pollBlocks(
  profile: profiles.DriveProfile,
  charMs: number,
  names: readonly string[] = pollNames(profile),
): profiles.ReadBlock[] {
  if (profile.protocol !== 'dynamixel2') return profiles.planReads(profile, names);
  // ROBOTIS e-manual §Read: a Read is 14 bytes, its status 11 + data (rounded to 25)
  const maxGap = Math.min(
    profiles.DYNAMIXEL_MAX_READ_BYTES,
    25 + Math.ceil(profile.turnaroundMs / charMs),
  );
  return profiles.planReads(profile, names, { maxGap });
}
