/**
 * Errors of `services/runtime`. Each carries a stable `code`, listed in
 * `ERROR_CODES` and in `services/runtime/ERRORS.md` (a test checks the two agree).
 */

export const ERROR_CODES = {
  CONFIG_NOT_FOUND:
    'The fleet file (or a profile directory it names) does not exist or cannot be read.',
  CONFIG_PARSE: 'The fleet file is not valid YAML.',
  CONFIG_INVALID:
    'The fleet file does not match the schema or is inconsistent (duplicate ids, unknown profile, unit id clash); `issues` lists each bad field with its path.',
  CONFIG_ENV_INVALID: 'An environment override (SERVOFLEET_*) has a value that cannot be used.',
  CONFIG_TLS_FILE:
    'A TLS file the fleet file or an environment override names (broker.tls ca/cert/key, gateway.https cert/key/ca) cannot be read, is not PEM, or is a key that does not belong to its certificate; `issues` names each field and path.',
  MQTT_CONNECT_TIMEOUT: 'No MQTT connection was established within the time the caller allowed.',
  MQTT_CLOSED:
    'The MQTT connection was closed by its owner: publishes and subscribes after close(), and QoS 1/2 publishes still waiting for their acknowledgement when it closed, fail with this.',
  MQTT_QUEUE_FULL:
    'Too many QoS 1/2 publishes are waiting for their acknowledgement (in flight, or queued while disconnected); the publish was not queued.',
  MQTT_PUBLISH_FAILED:
    'The MQTT client or the broker refused a publish (invalid topic, packet too large, MQTT 5 PUBACK reason code >= 0x80).',
  MQTT_SUBSCRIBE_FAILED:
    'The broker refused a subscription (SUBACK return code 0x80, or an MQTT 5 reason code >= 0x80).',
  LISTEN_FAILED:
    'A server of this process (embedded MQTT broker, admin HTTP server) could not listen on its address (port in use, no permission, address not local).',
  BROKER_HOST_NOT_LOOPBACK:
    'The embedded broker has no authentication, so it listens on a loopback address only unless told otherwise (`servofleet broker --host`).',
  PORT_WAIT_TIMEOUT: 'Nothing accepted TCP connections on an address within the time allowed.',
} as const;

export type RuntimeErrorCode = keyof typeof ERROR_CODES;

export interface ConfigIssue {
  /** JSON pointer of the bad field, e.g. `/links/0/drives/1/unit`. */
  path: string;
  message: string;
}

export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  readonly issues: readonly ConfigIssue[];

  constructor(
    code: RuntimeErrorCode,
    message: string,
    options: { issues?: ConfigIssue[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RuntimeError';
    this.code = code;
    this.issues = Object.freeze([...(options.issues ?? [])]);
  }
}
