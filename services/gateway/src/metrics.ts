/**
 * The gateway's Prometheus series (on top of the process defaults and the MQTT
 * session's `servofleet_mqtt_*`), all prefixed `servofleet_gateway_`.
 */
import type { Metrics } from '../../runtime/src/index.ts';

export type GatewayMetrics = ReturnType<typeof gatewayMetrics>;

export function gatewayMetrics(m: Metrics) {
  return {
    http: m.counter('servofleet_gateway_http_requests_total', 'HTTP requests by route and status', [
      'method',
      'route',
      'status',
    ]),
    httpSeconds: m.histogram('servofleet_gateway_http_request_seconds', 'HTTP request duration', {
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    commands: m.counter(
      'servofleet_gateway_commands_total',
      'Command requests by type and answer (HTTP status)',
      ['type', 'status'],
    ),
    commandSeconds: m.histogram(
      'servofleet_gateway_command_seconds',
      'Command round trip, HTTP in to HTTP out',
      {
        labelNames: ['type'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      },
    ),
    failFast: m.counter(
      'servofleet_gateway_fail_fast_total',
      'Commands answered at once without publishing, by reason',
      ['reason'],
    ),
    breakerState: m.gauge(
      'servofleet_gateway_breaker_state',
      'Breaker per drive: 0 closed, 0.5 half-open, 1 open (source: gateway or device)',
      ['drive', 'source'],
    ),
    breakerTransitions: m.counter(
      'servofleet_gateway_breaker_transitions_total',
      'Breaker state changes per drive',
      ['drive', 'source', 'to'],
    ),
    mqttMessages: m.counter('servofleet_gateway_mqtt_messages_total', 'MQTT messages taken in', [
      'kind',
    ]),
    mqttInvalid: m.counter(
      'servofleet_gateway_mqtt_invalid_total',
      'MQTT messages dropped for not matching the contract',
      ['kind'],
    ),
    streamDrops: m.counter(
      'servofleet_gateway_stream_dropped_clients_total',
      'Stream clients dropped for not reading',
    ),
  };
}

export const BREAKER_VALUE = { closed: 0, 'half-open': 0.5, open: 1 } as const;
