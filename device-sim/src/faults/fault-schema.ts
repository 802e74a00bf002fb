/**
 * The faults the simulator injects, as TypeBox schemas: the control API's
 * `POST /sim/faults` bodies and a scenario's `inject` steps. One schema per fault
 * kind, chosen by its `fault` field, so a bad body gets an error about the fields of
 * the fault it names rather than a list of every alternative.
 */
import { type Static, type TObject, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { SimError } from '../errors.ts';

const strict = { additionalProperties: false } as const;
const Drive = Type.String({ minLength: 1, maxLength: 64 });
const Link = Type.String({ minLength: 1, maxLength: 64 });
/** Clears itself after this long (simulator clock), when given. */
const Duration = Type.Optional(Type.Number({ minimum: 0, maximum: 86_400_000 }));
const Rate = Type.Number({ minimum: 0, maximum: 1 });

export const DriveFaultSchemas = {
  /** The drive never answers (a dead unit on the bus). */
  'no-response': Type.Object(
    { drive: Drive, fault: Type.Literal('no-response'), durationMs: Duration },
    strict,
  ),
  /** The drive answers `ms` late. */
  delay: Type.Object(
    {
      drive: Drive,
      fault: Type.Literal('delay'),
      ms: Type.Number({ minimum: 0, maximum: 60_000 }),
      durationMs: Duration,
    },
    strict,
  ),
  /** The drive faults with this 0x603F code ("0x4310", "4310h" or a number). */
  'drive-fault': Type.Object(
    {
      drive: Drive,
      fault: Type.Literal('drive-fault'),
      code: Type.Union([
        Type.String({ pattern: '^(0[xX][0-9A-Fa-f]{1,4}|[0-9A-Fa-f]{1,4}[hH])$' }),
        Type.Integer({ minimum: 1, maximum: 0xffff }),
      ]),
    },
    strict,
  ),
  /** An external load on the axis, ‰ of rated torque (a jam, a heavy part). */
  load: Type.Object(
    {
      drive: Drive,
      fault: Type.Literal('load'),
      torque: Type.Number({ minimum: -5000, maximum: 5000 }),
      durationMs: Duration,
    },
    strict,
  ),
  /** The encoder is lost: position freezes, the drive faults with 0x7305 when powered. */
  'encoder-loss': Type.Object(
    { drive: Drive, fault: Type.Literal('encoder-loss'), durationMs: Duration },
    strict,
  ),
  /** The DC bus rises by `volts` (a regenerating load, a bad supply). */
  'bus-voltage': Type.Object(
    {
      drive: Drive,
      fault: Type.Literal('bus-voltage'),
      volts: Type.Number({ minimum: -48, maximum: 100 }),
      durationMs: Duration,
    },
    strict,
  ),
} as const;

export const LinkFaultSchemas = {
  /** Each byte on the wire (both ways) has one bit flipped with probability `rate`. */
  corrupt: Type.Object(
    { link: Link, fault: Type.Literal('corrupt'), rate: Rate, durationMs: Duration },
    strict,
  ),
  /** With probability `rate` a reply is preceded by 1–`bytes` random bytes. */
  garbage: Type.Object(
    {
      link: Link,
      fault: Type.Literal('garbage'),
      rate: Rate,
      bytes: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
      durationMs: Duration,
    },
    strict,
  ),
  /** With probability `rate` a reply is cut short. */
  truncate: Type.Object(
    { link: Link, fault: Type.Literal('truncate'), rate: Rate, durationMs: Duration },
    strict,
  ),
  /** The connection drops (TCP closed, PTY gone) and comes back after `ms`. */
  disconnect: Type.Object(
    {
      link: Link,
      fault: Type.Literal('disconnect'),
      ms: Type.Number({ minimum: 0, maximum: 3_600_000 }),
    },
    strict,
  ),
} as const;

type DriveSchemas = typeof DriveFaultSchemas;
type LinkSchemas = typeof LinkFaultSchemas;
export type DriveFault = { [K in keyof DriveSchemas]: Static<DriveSchemas[K]> }[keyof DriveSchemas];
export type LinkFault = { [K in keyof LinkSchemas]: Static<LinkSchemas[K]> }[keyof LinkSchemas];
export type Fault = DriveFault | LinkFault;

export const FAULT_KINDS = [...Object.keys(DriveFaultSchemas), ...Object.keys(LinkFaultSchemas)];

/** A JSON-schema of every fault body, for documentation (OpenAPI). */
export const FaultSchema = Type.Union([
  ...Object.values(DriveFaultSchemas),
  ...Object.values(LinkFaultSchemas),
]);

/** Check an untrusted body; returns the typed fault or throws SIM_BAD_REQUEST naming the bad field. */
export function parseFault(body: unknown, at = ''): Fault {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SimError('SIM_BAD_REQUEST', 'a fault must be a JSON object', { path: at || '/' });
  }
  const kind = (body as { fault?: unknown }).fault;
  const schema: TObject | undefined =
    typeof kind === 'string'
      ? ((DriveFaultSchemas as Record<string, TObject>)[kind] ??
        (LinkFaultSchemas as Record<string, TObject>)[kind])
      : undefined;
  if (!schema) {
    throw new SimError('SIM_BAD_REQUEST', `fault must be one of ${FAULT_KINDS.join(', ')}`, {
      path: `${at}/fault`,
    });
  }
  const value = Value.Clone(body);
  Value.Default(schema, value);
  const first = Value.Errors(schema, value).First();
  if (first) {
    const path = `${at}${first.path || ''}` || '/';
    const why =
      first.message === 'Unexpected property' ? 'unknown field' : first.message.toLowerCase();
    throw new SimError('SIM_BAD_REQUEST', `${path}: ${why}`, { path });
  }
  return value as Fault;
}

export function isLinkFault(f: Fault): f is LinkFault {
  return 'link' in f;
}
