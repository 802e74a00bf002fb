/**
 * The gateway's tuning, as a TypeBox schema with defaults (STYLE.md §7): parsed once
 * (clone, defaults, check, freeze); unknown keys are an error. The fleet file gives
 * host, port and API keys; these are the knobs behind them, with defaults that suit a
 * line of a few dozen drives.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { MAX_COMMAND_BYTES } from '../../contract/src/index.ts';
import { GatewayError } from './errors.ts';

const strict = { additionalProperties: false } as const;
const Ms = (def: number, min = 1, max = 3_600_000) =>
  Type.Integer({ minimum: min, maximum: max, default: def });

export const GatewayOptionsSchema = Type.Object(
  {
    /** How long a command request waits for the drive's final reply, unless `?timeoutMs=` says. */
    commandTimeoutMs: Ms(10_000),
    /** The largest `?timeoutMs=` a client may ask for. */
    maxCommandTimeoutMs: Ms(60_000),
    /** Per drive: commands in flight at once; stop and quick stop never wait for a slot. */
    maxInFlightPerDrive: Type.Integer({ minimum: 1, maximum: 1000, default: 4 }),
    /** Per drive: commands waiting for a slot; past that, 503 OVERLOADED. */
    maxQueuePerDrive: Type.Integer({ minimum: 0, maximum: 10_000, default: 8 }),
    /** Consecutive failed round trips (no sign of life, or DRIVE_UNREACHABLE) that open a drive's breaker. */
    breakerFailures: Type.Integer({ minimum: 1, maximum: 1000, default: 3 }),
    /** How long an open breaker waits before it lets one command through to test the drive. */
    breakerHalfOpenAfterMs: Ms(5_000),
    /** Retry-After for a drive that is unreachable or offline, seconds. */
    unreachableRetryAfterSec: Type.Integer({ minimum: 1, maximum: 3600, default: 2 }),
    /** Command results remembered for `GET /commands/{id}`. */
    resultsCacheSize: Type.Integer({ minimum: 16, maximum: 1_000_000, default: 10_000 }),
    /** Stream items kept for `Last-Event-ID` resume. */
    streamBufferSize: Type.Integer({ minimum: 16, maximum: 1_000_000, default: 4096 }),
    /** SSE heartbeat comment period. */
    streamHeartbeatMs: Ms(15_000, 10),
    /** A stream client whose unsent bytes exceed this is dropped (it resumes with Last-Event-ID). */
    streamMaxBufferedBytes: Type.Integer({ minimum: 1024, default: 1_048_576 }),
    /** Requests per key (or per address without one) and window, on `/api/v1`. */
    rateLimitMax: Type.Integer({ minimum: 1, default: 1200 }),
    rateLimitWindowMs: Ms(60_000),
    /** Largest JSON body accepted, bytes. */
    bodyLimitBytes: Type.Integer({ minimum: 64, maximum: 1_048_576, default: MAX_COMMAND_BYTES }),
    /** Process load shedding (@fastify/under-pressure); 0 turns a check off. */
    maxEventLoopDelayMs: Type.Integer({ minimum: 0, default: 1000 }),
    maxHeapUsedBytes: Type.Integer({ minimum: 0, default: 0 }),
    maxRssBytes: Type.Integer({ minimum: 0, default: 0 }),
    pressureSampleIntervalMs: Ms(1000, 10, 60_000),
    pressureRetryAfterSec: Type.Integer({ minimum: 1, maximum: 3600, default: 5 }),
    /** Ready once every fleet drive has reported availability, or this long after subscribing. */
    warmupMs: Ms(2_000, 0),
  },
  strict,
);

export type GatewayOptions = Static<typeof GatewayOptionsSchema>;

export function parseGatewayOptions(input: Partial<GatewayOptions> = {}): Readonly<GatewayOptions> {
  const candidate = Value.Clone(input);
  Value.Default(GatewayOptionsSchema, candidate);
  const first = Value.Errors(GatewayOptionsSchema, candidate).First();
  if (first) {
    throw new GatewayError(
      'GATEWAY_OPTIONS_INVALID',
      `gateway option ${first.path || '/'}: ${first.message}`,
    );
  }
  const o = candidate as GatewayOptions;
  if (o.commandTimeoutMs > o.maxCommandTimeoutMs) {
    throw new GatewayError(
      'GATEWAY_OPTIONS_INVALID',
      `gateway option /commandTimeoutMs: ${o.commandTimeoutMs} is above maxCommandTimeoutMs ${o.maxCommandTimeoutMs}`,
    );
  }
  return Object.freeze(o);
}
