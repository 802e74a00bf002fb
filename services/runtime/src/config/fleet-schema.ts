/**
 * The fleet file schema (TypeBox). One file describes the broker, the links and their
 * drives, the lines, the gateway and the simulator. Every object rejects unknown keys,
 * so a misspelled `baudrate` is an error, not a silent default.
 */
import { type Static, Type } from '@sinclair/typebox';

const Id = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
  description: 'an id used in MQTT topics',
});
const strict = { additionalProperties: false } as const;

export const LimitsSchema = Type.Object(
  {
    /** Soft position limits in counts, [min, max]. */
    position: Type.Optional(Type.Tuple([Type.Integer(), Type.Integer()])),
    /** Largest |velocity| a command may ask for, counts/s. */
    velocity: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Largest acceleration/deceleration a command may ask for, counts/s². */
    acceleration: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  strict,
);

export const DriveSchema = Type.Object(
  {
    id: Id,
    /** Modbus unit id (1–247) or Dynamixel id (0–252). */
    unit: Type.Integer({ minimum: 0, maximum: 252 }),
    /** Name of a profile in the profiles directory (file name without `.yaml`). */
    profile: Type.String({ minLength: 1 }),
    pollHz: Type.Number({ exclusiveMinimum: 0, maximum: 1000, default: 20 }),
    /**
     * Off when absent. Reads the profile's `watch` objects (the statusword) up to this
     * often in idle bus time and polls at once when they change: state changes are seen
     * in a few ms instead of up to a poll period. Uses only wire time nothing else wants.
     */
    watchHz: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000 })),
    /**
     * Default 200. While only the measured values change (position, velocity, torque,
     * temperature, voltage: a drive on the move), its retained state is published at
     * most this often, ms; telemetry carries every poll. A change of the CiA 402 state,
     * mode, target reached or fault is published at once, and so is the first change
     * after a quiet interval. 0: state at every poll that changes anything.
     */
    stateIntervalMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
    limits: Type.Optional(LimitsSchema),
  },
  strict,
);

export const LinkSchema = Type.Object(
  {
    id: Id,
    protocol: Type.Union([Type.Literal('modbus-rtu'), Type.Literal('dynamixel2')]),
    /** `serial:///dev/ttyUSB0`, `tcp://host:port` (raw serial bridge) or `memory://name`. */
    transport: Type.String({ pattern: '^(serial|tcp|memory)://' }),
    baud: Type.Integer({ minimum: 1200, maximum: 4_500_000, default: 115200 }),
    parity: Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')], {
      default: 'none',
    }),
    drives: Type.Array(DriveSchema, { minItems: 1 }),
    /** The device service's /healthz, /readyz, /metrics port (0: any free port). */
    adminPort: Type.Integer({ minimum: 0, maximum: 65535, default: 0 }),
  },
  strict,
);

export const StationSchema = Type.Object(
  {
    id: Id,
    drives: Type.Array(Id, { minItems: 1 }),
    bypassable: Type.Boolean({ default: false }),
  },
  strict,
);

export const LineSchema = Type.Object(
  {
    id: Id,
    stations: Type.Array(StationSchema, { minItems: 1 }),
    /** The cycle's steps; their shape belongs to the line controller and is checked there. */
    cycle: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()))),
    /** A bypassed station rejoins at the next cycle boundary by itself when its drives return. */
    autoRejoin: Type.Boolean({ default: true }),
    /** The line controller's /healthz, /readyz, /metrics port (0: any free port). */
    adminPort: Type.Integer({ minimum: 0, maximum: 65535, default: 0 }),
    /** Where the line controller keeps its saga log (relative to the fleet file). */
    sagaLog: Type.Optional(Type.String()),
  },
  strict,
);

/**
 * A journal replica's instance id: one MQTT topic level and part of an MQTT client id
 * (`journal-` + at most 15 characters = 23, the client id length every MQTT 3.1.1
 * server must accept [MQTT-3.1.3-5]); no `+`, `#` or `/`, which Mosquitto refuses in
 * client ids that pattern ACLs substitute.
 */
export const JOURNAL_INSTANCE_PATTERN = '^[A-Za-z0-9_-]{1,15}$';

export const JournalSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    /** HTTP query API (GET /events …) and /healthz, /readyz, /metrics. */
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8090 }),
    /** SQLite database file, relative to the fleet file. */
    path: Type.String({ default: '.servofleet/journal.db' }),
    /**
     * This replica's id when several journals share the event stream
     * (`SERVOFLEET_JOURNAL_INSTANCE` overrides). Each replica needs its own instance id
     * and its own database: the MQTT client id and session are `journal-{instance}`, its
     * availability `{root}/services/journal-{instance}/availability`. Without it the
     * client id is `sf-journal-` + a hash of the database path and the service id
     * `journal` — so replicas from one image and config, each with its own volume at the
     * same path, would share one client id and take the session from each other. A
     * retired instance's session must be removed from the broker (services/journal
     * README): while it exists it keeps receiving its share of the events.
     */
    instance: Type.Optional(
      Type.String({ pattern: JOURNAL_INSTANCE_PATTERN, description: 'a journal replica id' }),
    ),
    retention: Type.Object(
      {
        days: Type.Number({ exclusiveMinimum: 0, default: 30 }),
        maxRows: Type.Integer({ minimum: 1000, default: 5_000_000 }),
      },
      { ...strict, default: {} },
    ),
  },
  strict,
);

export const ApiKeySchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** Hex SHA-256 of the key; the key itself never sits in the file. */
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    role: Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')]),
  },
  strict,
);

/** A file path; a relative one is taken from the fleet file's directory (`loadFleetFile`). */
const FilePath = Type.String({ minLength: 1 });

export const GatewayHttpsSchema = Type.Object(
  {
    /** PEM certificate (chain) the gateway presents. */
    cert: FilePath,
    /** PEM private key of `cert`, unencrypted. */
    key: FilePath,
    /** PEM CA certificates the gateway may send along to complete `cert`'s chain. */
    ca: Type.Optional(FilePath),
  },
  strict,
);

export const GatewaySchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    apiKeys: Type.Array(ApiKeySchema, { default: [] }),
    /** Serve HTTPS instead of HTTP; `SERVOFLEET_HTTPS_CERT` / `_KEY` override the paths. */
    https: Type.Optional(GatewayHttpsSchema),
    /**
     * Base URLs of every journal's query API (`http://journal-a:8090`), when several
     * journals share the event stream: the gateway asks each and merges their histories.
     * Default: the one journal at `http://{journal.host}:{journal.port}`.
     * `SERVOFLEET_JOURNAL_URLS` (comma-separated) overrides.
     */
    journals: Type.Optional(
      Type.Array(Type.String({ pattern: '^https?://', description: 'a journal base URL' }), {
        minItems: 1,
      }),
    ),
  },
  strict,
);

export const SimLinkSchema = Type.Object(
  {
    link: Id,
    /** Where the simulator serves the link: `tcp://127.0.0.1:4001`, `pty://` or `memory://name`. */
    listen: Type.String({ pattern: '^(tcp|pty|memory)://' }),
    /** Drives of the link the simulator emulates (default: all of them). */
    drives: Type.Optional(Type.Array(Id)),
    /** Slave turnaround before answering, ms. */
    turnaroundMs: Type.Number({ minimum: 0, maximum: 1000, default: 1 }),
    /** Pace bytes at the link's baud rate. */
    paced: Type.Boolean({ default: true }),
  },
  strict,
);

export const SimulatorSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    controlPort: Type.Integer({ minimum: 0, maximum: 65535, default: 3100 }),
    seed: Type.Integer({ default: 1 }),
    physicsHz: Type.Integer({ minimum: 10, maximum: 10_000, default: 1000 }),
    links: Type.Array(SimLinkSchema, { default: [] }),
  },
  strict,
);

export const BrokerTlsSchema = Type.Object(
  {
    /** PEM CA certificate(s) to check the broker's certificate with (default: Node's CAs). */
    ca: Type.Optional(FilePath),
    /** PEM client certificate, for a broker that requires one (mutual TLS); needs `key`. */
    cert: Type.Optional(FilePath),
    /** PEM private key of `cert`, unencrypted. */
    key: Type.Optional(FilePath),
    /** Refuse a broker whose certificate does not check out; false only for a throwaway test. */
    rejectUnauthorized: Type.Boolean({ default: true }),
  },
  strict,
);

export const BrokerSchema = Type.Object(
  {
    url: Type.String({ pattern: '^(mqtt|mqtts|ws|wss|tcp)://', default: 'mqtt://127.0.0.1:1883' }),
    /** `servofleet up` runs an embedded aedes broker at `url` when true. */
    embedded: Type.Boolean({ default: true }),
    /** MQTT user; `SERVOFLEET_MQTT_USERNAME` overrides (one user per service with ACLs). */
    username: Type.Optional(Type.String()),
    /** Never in the file: only from `SERVOFLEET_MQTT_PASSWORD`. */
    password: Type.Optional(Type.String()),
    /**
     * TLS for an `mqtts://` or `wss://` url; `SERVOFLEET_MQTT_CA`, `_CERT`, `_KEY`
     * override the paths.
     */
    tls: Type.Optional(BrokerTlsSchema),
  },
  strict,
);

export const FleetSchema = Type.Object(
  {
    /** MQTT topic root, e.g. `acme/plant1/servofleet`. */
    root: Type.String({ pattern: '^[^#+]+$', default: 'servofleet' }),
    /** Directory of drive profiles, relative to the fleet file. */
    profilesDir: Type.String({ default: 'profiles' }),
    broker: Type.Object(BrokerSchema.properties, { ...strict, default: {} }),
    links: Type.Array(LinkSchema, { minItems: 1 }),
    lines: Type.Array(LineSchema, { default: [] }),
    gateway: Type.Object(GatewaySchema.properties, { ...strict, default: {} }),
    simulator: Type.Optional(SimulatorSchema),
    journal: Type.Object(JournalSchema.properties, { ...strict, default: {} }),
  },
  strict,
);

export type Fleet = Static<typeof FleetSchema>;
export type LinkConfig = Static<typeof LinkSchema>;
export type DriveConfig = Static<typeof DriveSchema>;
export type LineConfig = Static<typeof LineSchema>;
export type SimulatorConfig = Static<typeof SimulatorSchema>;
export type JournalConfig = Static<typeof JournalSchema>;
export type BrokerConfig = Static<typeof BrokerSchema>;
export type BrokerTlsConfig = Static<typeof BrokerTlsSchema>;
export type GatewayConfig = Static<typeof GatewaySchema>;
export type GatewayHttpsConfig = Static<typeof GatewayHttpsSchema>;
