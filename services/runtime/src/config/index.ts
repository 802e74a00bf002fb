export type {
  BrokerConfig,
  BrokerTlsConfig,
  DriveConfig,
  Fleet,
  GatewayConfig,
  GatewayHttpsConfig,
  JournalConfig,
  LineConfig,
  LinkConfig,
  SimulatorConfig,
} from './fleet-schema.ts';
export { FleetSchema } from './fleet-schema.ts';
export type { FleetEnv, LoadedFleet } from './load-fleet.ts';
export { DEFAULT_FLEET_FILE, loadFleetFile, parseFleet, resolveFleetPath } from './load-fleet.ts';
export {
  type BrokerTlsMaterial,
  type HttpsMaterial,
  readBrokerTls,
  readGatewayHttps,
} from './tls-files.ts';
