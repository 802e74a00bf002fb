/**
 * Constants of Dynamixel Protocol 2.0 (ROBOTIS Protocol 2.0 e-manual,
 * https://emanual.robotis.com/docs/en/dxl/protocol2/).
 */

/** Instruction field values (ROBOTIS Protocol 2.0 e-manual §Instruction). */
export const Instruction = {
  Ping: 0x01,
  Read: 0x02,
  Write: 0x03,
  RegWrite: 0x04,
  Action: 0x05,
  FactoryReset: 0x06,
  Reboot: 0x08,
  Clear: 0x10,
  /** The instruction field of every status packet (e-manual §Status Packet). */
  Status: 0x55,
  SyncRead: 0x82,
  SyncWrite: 0x83,
  FastSyncRead: 0x8a,
  BulkRead: 0x92,
  BulkWrite: 0x93,
  FastBulkRead: 0x9a,
} as const;

export type InstructionCode = (typeof Instruction)[keyof typeof Instruction];

/** Broadcast ID: every device executes the packet (e-manual §Packet ID). */
export const BROADCAST_ID = 0xfe;

/** Highest device ID: IDs 0–252 (0x00–0xFC); 0xFD and 0xFF are never used (e-manual §Packet ID). */
export const MAX_DEVICE_ID = 0xfc;

/** FF FF FD 00: header (3 bytes) and reserved byte (e-manual §Header, §Reserved). */
export const HEADER_0 = 0xff;
export const HEADER_1 = 0xff;
export const HEADER_2 = 0xfd;
export const RESERVED = 0x00;

/** Bytes before the instruction field: header (3), reserved, ID, LEN (2). */
export const HEADER_LENGTH = 7;

/** Smallest LEN: instruction + CRC (2) (e-manual §Length: "Length = the number of Parameters + 3"). */
export const MIN_LENGTH_FIELD = 3;

/** Smallest LEN of a status packet: instruction + error + CRC (2) (e-manual §Status Packet). */
export const MIN_STATUS_LENGTH_FIELD = 4;

/** Largest LEN the 16-bit length field can carry. */
export const MAX_LENGTH_FIELD = 0xffff;

/**
 * Parameters of the Clear instruction that reset the multi-turn position
 * (e-manual §Clear: P1 = 0x01, P2–P5 = fixed 0x44 0x58 0x4C 0x22).
 */
export const CLEAR_MULTI_TURN_PARAMS: readonly number[] = [0x01, 0x44, 0x58, 0x4c, 0x22];

/** Factory Reset options (e-manual §Factory Reset, Parameter 1). */
export const FactoryResetOption = {
  All: 0xff,
  AllExceptId: 0x01,
  AllExceptIdAndBaudRate: 0x02,
} as const;
