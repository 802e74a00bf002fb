export type {
  DriveConfig,
  Fleet,
  JournalConfig,
  LineConfig,
  LinkConfig,
  SimulatorConfig,
} from './fleet-schema.ts';
export { FleetSchema } from './fleet-schema.ts';
export type { FleetEnv, LoadedFleet } from './load-fleet.ts';
export { DEFAULT_FLEET_FILE, loadFleetFile, parseFleet, resolveFleetPath } from './load-fleet.ts';
