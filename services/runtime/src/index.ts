export {
  type AdminDeps,
  type AdminServer,
  type AdminServerOptions,
  adminRoutes,
  buildAdminApp,
  type Readiness,
  startAdminServer,
} from './admin-server.ts';
export { type BrokerConnection, brokerConnection } from './broker-connection.ts';
export { type Clock, ManualClock, systemClock, type TimerHandle } from './clock.ts';
export * from './config/index.ts';
export {
  type EmbeddedBroker,
  type EmbeddedBrokerOptions,
  startEmbeddedBroker,
} from './embedded-broker.ts';
export type { ConfigIssue, RuntimeErrorCode } from './errors.ts';
export { ERROR_CODES, RuntimeError } from './errors.ts';
export { createLogger, type Logger } from './logger.ts';
export { createMetrics, type Metrics, type MetricsOptions, type Registry } from './metrics.ts';
export { announceOffline, connectMqtt } from './mqtt.ts';
export {
  DEFAULT_RECONNECT,
  type ReconnectBackoff,
  reconnectDelay,
} from './mqtt-negotiation.ts';
export type {
  ConnectInfo,
  ConnectMqttOptions,
  MessageHandler,
  MqttConnection,
  MqttProtocol,
  MqttTls,
  MqttWill,
  PublishOptions,
  PublishProperties,
  QoS,
} from './mqtt-types.ts';
export { packageRoot } from './package-root.ts';
export { onShutdown } from './shutdown.ts';
export { probeTcpPort, type WaitForPortOptions, waitForTcpPort } from './wait-for-port.ts';
