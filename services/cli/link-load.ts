/**
 * How much of a link the configured poll rates use, from the wire arithmetic of
 * DESIGN.md ("Link limits"): bytes both ways at 10 bits a byte (11 with parity), plus
 * the Modbus 3.5-character silences, plus the slave's turnaround. An estimate for
 * `validate`; the device service's scheduler measures the real thing.
 */
import { modbus, profiles } from '../../firmware-protocol/src/index.ts';
import type { LinkConfig } from '../runtime/src/index.ts';

export interface LinkLoad {
  transactionsPerSecond: number;
  capacityPerSecond: number;
  utilisation: number;
}

export function linkPollLoad(
  link: LinkConfig,
  byName: Map<string, profiles.DriveProfile>,
): LinkLoad {
  const bitsPerChar = link.parity === 'none' ? 10 : 11;
  const byteMs = (bitsPerChar * 1000) / link.baud;
  let busyMsPerSecond = 0;
  let tps = 0;
  if (link.protocol === 'modbus-rtu') {
    const gap = modbus.silenceMs(link.baud, bitsPerChar);
    for (const d of link.drives) {
      const p = byName.get(d.profile)!;
      for (const block of profiles.planReads(p, readableObjects(p))) {
        const reqBytes = 8;
        const resBytes = 5 + 2 * block.quantity;
        const txMs = (reqBytes + resBytes) * byteMs + 2 * gap + (p.turnaroundMs ?? 0);
        busyMsPerSecond += d.pollHz * txMs;
        tps += d.pollHz;
      }
    }
  } else {
    // Dynamixel: one sync read per poll for every drive at the fastest drive's rate.
    const hz = Math.max(...link.drives.map((d) => d.pollHz));
    const p = byName.get(link.drives[0]!.profile)!;
    const blocks = profiles.planReads(p, readableObjects(p));
    for (const block of blocks) {
      const n = link.drives.length;
      const reqBytes = 14 + n; // header 4, id, len 2, inst, addr 2, len 2, ids n, crc 2
      const resBytes = n * (11 + block.quantity); // each status: header 4, id, len 2, inst, err, data, crc 2
      busyMsPerSecond += hz * (reqBytes + resBytes) * byteMs;
      tps += hz;
    }
  }
  const utilisation = busyMsPerSecond / 1000;
  return {
    transactionsPerSecond: tps,
    capacityPerSecond: utilisation > 0 ? tps / utilisation : 0,
    utilisation,
  };
}

/** The objects a device service polls: the profile's `poll` list, else every object. */
function readableObjects(p: profiles.DriveProfile): readonly string[] {
  return p.poll ?? Object.keys(p.objects);
}
