/**
 * The drive profile schema: a drive model's register map (Modbus) or control table
 * (Dynamixel) as data, so that a new drive model is a new YAML file, not new code.
 *
 * ```yaml
 * name: sf-servo                 # lower-case; the file is <name>.yaml
 * description: …                 # optional, default ''
 * protocol: modbus-rtu           # modbus-rtu | dynamixel2
 * wordOrder: high-first          # modbus-rtu only, default high-first: the register order
 *                                #   of 32-bit values (each register is big-endian, Modbus
 *                                #   Application Protocol V1.1b3 §4.2; the order of the two
 *                                #   is the vendor's: Kinco is low-first)
 * turnaroundMs: 2                # typical slave turnaround (ms), default 2: the bus
 *                                #   scheduler adds it to the wire time for its timeout
 * modelNumber: 1020              # dynamixel2 only, required: the Model Number (address 0)
 * fastSyncRead: true             # dynamixel2 only, optional: the model answers 0x8A
 * indirect:                      # dynamixel2 only, optional: the model's Indirect Address
 *   - { address: 168, data: 224, count: 28, check: statusReturnLevel }
 *                                #   banks (e-manual, Indirect Address): `count` 2-byte
 *                                #   entries from `address`; the byte `data` + k reads and
 *                                #   writes the control-table byte entry k names. With
 *                                #   `check` (an object never 0 while the servo answers
 *                                #   reads), a device service polls through the first bank
 * poll: [statusword, …]          # optional: the objects a device service reads each
 *                                #   poll (default: every object)
 * watch: [statusword]            # optional: a few objects whose change means the state
 *                                #   changed; a drive with `watchHz` reads them in idle
 *                                #   bus time and polls at once when they differ
 * objects:                       # at least one; name → object
 *   temperature: { address: 0x0015, type: i16, access: r, scale: 0.1, unit: degC }
 * ```
 *
 * An object: `address` (Modbus holding register, or Dynamixel control-table byte
 * address), `type` (u8/i8 Dynamixel only, u16, i16, u32, i32; the size follows),
 * `access` (r | rw), `index` (optional CiA 402 object index it maps, e.g. 0x6041),
 * `scale` (engineering value = raw × scale, default 1), `unit`, `description`.
 * Unknown keys are an error everywhere.
 */
import { type Static, Type } from '@sinclair/typebox';

export const OBJECT_TYPES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32'] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

export const PROTOCOLS = ['modbus-rtu', 'dynamixel2'] as const;
export type ProfileProtocol = (typeof PROTOCOLS)[number];

export const WORD_ORDERS = ['high-first', 'low-first'] as const;
export type WordOrder = (typeof WORD_ORDERS)[number];

export const ACCESSES = ['r', 'rw'] as const;
export type Access = (typeof ACCESSES)[number];

/** Object names: identifiers, so they are safe as JSON keys and MQTT field names. */
export const OBJECT_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]*$';
/** Profile names: what a fleet file refers to and the file's base name. */
export const PROFILE_NAME_PATTERN = '^[a-z0-9][a-z0-9._-]*$';

const u16 = (description: string) => Type.Integer({ minimum: 0, maximum: 0xffff, description });

export const ProfileObjectSchema = Type.Object(
  {
    address: u16('Modbus holding register or Dynamixel control-table byte address'),
    type: Type.Union(
      OBJECT_TYPES.map((t) => Type.Literal(t)),
      { description: 'wire type; u8/i8 for dynamixel2 only' },
    ),
    access: Type.Union(
      ACCESSES.map((a) => Type.Literal(a)),
      { description: 'r: read-only, rw: read-write' },
    ),
    index: Type.Optional(u16('the CiA 402 object this maps, for reference')),
    scale: Type.Number({
      exclusiveMinimum: 0,
      default: 1,
      description: 'engineering value = raw integer × scale',
    }),
    unit: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    description: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const DriveProfileSchema = Type.Object(
  {
    name: Type.String({ pattern: PROFILE_NAME_PATTERN, maxLength: 64 }),
    description: Type.String({ default: '', maxLength: 500 }),
    protocol: Type.Union(PROTOCOLS.map((p) => Type.Literal(p))),
    wordOrder: Type.Optional(Type.Union(WORD_ORDERS.map((w) => Type.Literal(w)))),
    turnaroundMs: Type.Number({ minimum: 0, maximum: 1000, default: 2 }),
    modelNumber: Type.Optional(u16('Dynamixel model number')),
    fastSyncRead: Type.Optional(Type.Boolean()),
    /**
     * Indirect Address banks (Dynamixel X series, e-manual "Indirect Address, Indirect
     * Data"): entry k (2 bytes, little-endian, at `address` + 2k) names a control-table
     * byte, and the byte at `data` + k reads and writes that byte, so that objects far
     * apart read as one block.
     */
    indirect: Type.Optional(
      Type.Array(
        Type.Object(
          {
            address: u16('first Indirect Address entry'),
            data: u16('first Indirect Data byte'),
            count: Type.Integer({ minimum: 1, maximum: 1024, description: 'entries' }),
            check: Type.Optional(
              Type.String({
                pattern: OBJECT_NAME_PATTERN,
                description:
                  'an object never 0 while the servo answers reads (Status Return Level): mapped first, it tells a poll through this bank from one the servo has forgotten (reboot, power cycle)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 8 },
      ),
    ),
    /**
     * The objects a device service reads every poll (its state view); the read plan
     * merges them. Default: every object of the profile.
     */
    poll: Type.Optional(
      Type.Array(Type.String({ pattern: OBJECT_NAME_PATTERN }), { uniqueItems: true }),
    ),
    /**
     * A few poll objects whose change means the drive's state changed (the statusword):
     * read between polls in idle bus time by a drive configured with `watchHz`, which
     * is polled at once when they differ from its last poll.
     */
    watch: Type.Optional(
      Type.Array(Type.String({ pattern: OBJECT_NAME_PATTERN }), {
        uniqueItems: true,
        minItems: 1,
      }),
    ),
    objects: Type.Record(Type.String({ pattern: OBJECT_NAME_PATTERN }), ProfileObjectSchema, {
      additionalProperties: false,
      minProperties: 1,
    }),
  },
  { additionalProperties: false },
);

export type ProfileObject = Readonly<Static<typeof ProfileObjectSchema>>;

/**
 * A parsed drive profile: defaults applied (`description`, `turnaroundMs`, every
 * object's `scale`; `wordOrder` for modbus-rtu), checked, deep-frozen.
 */
export type DriveProfile = Readonly<
  Omit<Static<typeof DriveProfileSchema>, 'objects'> & {
    objects: Readonly<Record<string, ProfileObject>>;
  }
>;

/** One object of a profile, with its name. */
export type ObjectInfo = ProfileObject & { readonly name: string };
