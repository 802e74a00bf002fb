/**
 * device-sim: a hardware-in-the-loop drive simulator, byte-exact on the wire, with
 * faults on demand. Usable on its own: it imports nothing of servofleet but
 * `firmware-protocol`.
 */
export {
  type Clock,
  createPreciseClock,
  ManualClock,
  realClock,
  type TimerHandle,
} from './clock.ts';
export { buildControlApi, type ControlApiOptions } from './control/control-api.ts';
export { SimDrive } from './drive/sim-drive.ts';
export { ERROR_CODES, SimError, type SimErrorCode } from './errors.ts';
export {
  type DriveFault,
  type Fault,
  FaultSchema,
  type LinkFault,
  parseFault,
} from './faults/fault-schema.ts';
export type { Link } from './links/link.ts';
export { createMemoryLinkPair } from './links/memory-link.ts';
export {
  parseScenario,
  runScenario,
  type Scenario,
  type ScenarioRun,
  type ScenarioStep,
} from './scenario.ts';
export {
  type ActiveFault,
  type SimDriveSpec,
  type SimLinkSpec,
  Simulator,
  type SimulatorOptions,
} from './simulator.ts';
