/** Per-drive communication faults (the drive's own faults live in SimDrive). */
export interface DriveFaultState {
  /** The unit never answers (a dead drive on the bus). */
  noResponse: boolean;
  /** Extra delay before each answer, ms. */
  delayMs: number;
}

export function noDriveFaults(): DriveFaultState {
  return { noResponse: false, delayMs: 0 };
}
