/**
 * The MQTT contract (v1) as an AsyncAPI 3.0 document, generated from the same TypeBox
 * schemas that validate the messages (so the document cannot drift from the code).
 *
 * The application the document describes is the fleet's device side: it *sends*
 * availability, meta, state, telemetry and events for every drive, and *receives*
 * commands, answering each on the MQTT 5 response topic (with the correlation data) or
 * on the payload's `replyTo` for MQTT 3.1.1 clients. Line and service topics are listed
 * with the payloads the contract fixes today.
 *
 * AsyncAPI 3.0.0: https://www.asyncapi.com/docs/reference/specification/v3.0.0; MQTT
 * bindings 0.2.0: https://github.com/asyncapi/bindings/tree/master/mqtt.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { ERROR_CODES } from './errors.ts';
import { CommandSchemas, ReplySchema } from './schemas/commands.ts';
import { AvailabilitySchema, MetaSchema, StateSchema, TelemetrySchema } from './schemas/drive.ts';
import { EventSchemas } from './schemas/events.ts';
import { CONTRACT_VERSION, ID_PATTERN, topics } from './topics.ts';

export interface AsyncApiOptions {
  /** Topic root (default `servofleet`). */
  root?: string;
  /** Broker servers to list (default: the demo fleet's loopback broker). */
  servers?: Record<
    string,
    { host: string; protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss'; description?: string }
  >;
}

type Json = Record<string, unknown>;

/** A plain JSON copy of a TypeBox schema without `$id`s (they are given by the component name). */
function plain(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema), (key, value) => (key === '$id' ? undefined : value));
}

const ref = (kind: 'channels' | 'messages' | 'schemas', name: string) => ({
  $ref: `#/${kind === 'channels' ? 'channels' : `components/${kind}`}/${name}`,
});

const mqttOp = (qos: 0 | 1, retain: boolean) => ({
  mqtt: { qos, retain, bindingVersion: '0.2.0' },
});

export function asyncApiDocument(o: AsyncApiOptions = {}): Json {
  const t = topics(o.root ?? 'servofleet');
  const root = t.root;
  const driveId = {
    description: `Drive id: one MQTT topic level matching ${ID_PATTERN}.`,
    examples: ['axis-1', 'dxl-1'],
  };
  const lineId = { description: 'Line id from the fleet file.', examples: ['line-1'] };
  const serviceId = {
    description: 'Process id, e.g. `device-bus-a`, `gateway-<host>-<port>`.',
    examples: ['device-bus-a'],
  };

  const eventMessages = Object.fromEntries(
    Object.keys(EventSchemas).map((k) => [`event.${k}`, ref('messages', `event.${k}`)]),
  );
  const commandMessages = Object.fromEntries(
    Object.keys(CommandSchemas).map((k) => [`command.${k}`, ref('messages', `command.${k}`)]),
  );

  const schemas: Json = {
    Availability: plain(AvailabilitySchema),
    Meta: plain(MetaSchema),
    State: plain(StateSchema),
    Telemetry: plain(TelemetrySchema),
    Reply: plain(ReplySchema),
    ErrorCode: {
      type: 'string',
      enum: Object.keys(ERROR_CODES),
      description: Object.entries(ERROR_CODES)
        .map(([c, d]) => `- \`${c}\`: ${d}`)
        .join('\n'),
    },
    // The line controller's payloads are its own (issue 6); the contract fixes only `ts`.
    LineMessage: plain(Type.Object({ ts: Type.Integer({ minimum: 0 }) })),
  };
  for (const [k, s] of Object.entries(EventSchemas)) schemas[`Event.${k}`] = plain(s);
  for (const [k, s] of Object.entries(CommandSchemas)) schemas[`Command.${k}`] = plain(s);

  const message = (name: string, schema: string, summary: string, extra: Json = {}) => ({
    name,
    title: name,
    summary,
    contentType: 'application/json',
    payload: ref('schemas', schema),
    ...extra,
  });

  const messages: Json = {
    availability: message(
      'availability',
      'Availability',
      '`online`, `unreachable` (service up, drive not answering or breaker open) or `offline` (last will of the drive’s own MQTT session).',
    ),
    meta: message('meta', 'Meta', 'Birth certificate: protocol, link, unit, profile, limits.'),
    state: message(
      'state',
      'State',
      'Snapshot: CiA 402 state, mode, position, velocity, …, `seq`.',
    ),
    telemetry: message('telemetry', 'Telemetry', 'The state fields at poll rate.'),
    reply: message(
      'reply',
      'Reply',
      '`accepted` (interim, for long commands), then exactly one of `completed`, `rejected`, `failed`, `expired`, with an error code.',
      {
        bindings: {
          mqtt: {
            correlationData: { type: 'string', description: 'Echoed from the command (MQTT 5).' },
            bindingVersion: '0.2.0',
          },
        },
      },
    ),
    lineState: message('lineState', 'LineMessage', 'Line state and counters (line controller).'),
    lineEvent: message('lineEvent', 'LineMessage', 'Line events (line controller).'),
    serviceAvailability: message(
      'serviceAvailability',
      'Availability',
      'A process’s availability, with its last will.',
    ),
  };
  for (const k of Object.keys(EventSchemas)) {
    messages[`event.${k}`] = message(`event.${k}`, `Event.${k}`, `Drive event \`${k}\`.`);
  }
  for (const k of Object.keys(CommandSchemas)) {
    messages[`command.${k}`] = message(`command.${k}`, `Command.${k}`, `Command \`${k}\`.`, {
      bindings: {
        mqtt: {
          responseTopic: {
            type: 'string',
            description: 'MQTT 5: where to reply; 3.1.1 clients put `replyTo` in the payload.',
          },
          correlationData: { type: 'string', description: 'MQTT 5: echoed in the reply.' },
          bindingVersion: '0.2.0',
        },
      },
    });
  }

  const drive = (kind: string, msgs: Json, description: string) => ({
    address: `${root}/drives/{driveId}/${kind}`,
    description,
    parameters: { driveId },
    messages: msgs,
  });

  const channels: Json = {
    driveAvailability: drive(
      'availability',
      { availability: ref('messages', 'availability') },
      'QoS 1, retained.',
    ),
    driveMeta: drive(
      'meta',
      { meta: ref('messages', 'meta') },
      'QoS 1, retained. On a change: a new CiA 402 state, mode, target reached or fault, a voltage step of 1 V or a temperature step of 2 °C at once; changes of the measured values alone at most every stateIntervalMs (meta; default 200 ms); and every 10 s.',
    ),
    driveState: drive('state', { state: ref('messages', 'state') }, 'QoS 1, retained.'),
    driveTelemetry: drive('telemetry', { telemetry: ref('messages', 'telemetry') }, 'QoS 0.'),
    driveEvents: drive(
      'events',
      eventMessages,
      'QoS 1. State transitions, faults, breaker changes, command lifecycle; each with a unique `eventId`.',
    ),
    driveCommands: drive(
      'commands',
      commandMessages,
      'QoS 1. A duplicate `commandId` is answered with the first result and never executed twice; past its `deadline` a command is answered `expired`.',
    ),
    commandReplies: {
      address: null,
      description:
        'The MQTT 5 response topic of the command, or its `replyTo` (MQTT 3.1.1). QoS 1.',
      messages: { reply: ref('messages', 'reply') },
    },
    lineState: {
      address: `${root}/lines/{lineId}/state`,
      description: 'QoS 1, retained.',
      parameters: { lineId },
      messages: { lineState: ref('messages', 'lineState') },
    },
    lineEvents: {
      address: `${root}/lines/{lineId}/events`,
      description: 'QoS 1.',
      parameters: { lineId },
      messages: { lineEvent: ref('messages', 'lineEvent') },
    },
    serviceAvailability: {
      address: `${root}/services/{serviceId}/availability`,
      description: 'QoS 1, retained; the last will says `offline`.',
      parameters: { serviceId },
      messages: { serviceAvailability: ref('messages', 'serviceAvailability') },
    },
  };

  const send = (channel: string, qos: 0 | 1, retain: boolean, summary: string) => ({
    action: 'send',
    channel: ref('channels', channel),
    summary,
    bindings: mqttOp(qos, retain),
  });

  const operations: Json = {
    sendAvailability: send('driveAvailability', 1, true, 'Publish a drive’s availability.'),
    sendMeta: send('driveMeta', 1, true, 'Publish a drive’s birth certificate.'),
    sendState: send('driveState', 1, true, 'Publish a drive’s state when it changes.'),
    sendTelemetry: send('driveTelemetry', 0, false, 'Publish a drive’s state at poll rate.'),
    sendEvents: send('driveEvents', 1, false, 'Publish a drive’s events.'),
    receiveCommand: {
      action: 'receive',
      channel: ref('channels', 'driveCommands'),
      summary: 'Take a command for one drive and answer it.',
      bindings: mqttOp(1, false),
      reply: {
        address: {
          location: '$message.payload#/replyTo',
          description: 'MQTT 3.1.1; MQTT 5 clients set the response topic instead.',
        },
        channel: ref('channels', 'commandReplies'),
      },
    },
    sendLineState: send('lineState', 1, true, 'Line controller: line state.'),
    sendLineEvents: send('lineEvents', 1, false, 'Line controller: line events.'),
    sendServiceAvailability: send(
      'serviceAvailability',
      1,
      true,
      'Every process: its availability.',
    ),
  };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'servofleet MQTT contract',
      version: `${CONTRACT_VERSION}.0.0`,
      description:
        'Topics and payloads of a servofleet fleet (contract v1). Every payload is JSON with `ts` in ms since the epoch. Fields are added, never renamed, within v1. Error codes: see the `ErrorCode` schema.',
    },
    defaultContentType: 'application/json',
    servers: o.servers ?? {
      broker: {
        host: '127.0.0.1:1883',
        protocol: 'mqtt',
        description: 'The demo fleet’s embedded broker (MQTT 3.1.1; Mosquitto speaks 5).',
      },
    },
    channels,
    operations,
    components: { schemas, messages },
  };
}
