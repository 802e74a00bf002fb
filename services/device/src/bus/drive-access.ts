/**
 * How the bus reads and writes one drive's named objects, whatever the protocol: the
 * masters below speak the wire; this is the profile side. Requests are prepared
 * (planned and encoded) when they are made, so a request the profile cannot encode is
 * refused at once (BAD_REQUEST) and never queued; running a prepared request puts its
 * transactions on the wire, one after another.
 */
import { isProtocolError, type profiles } from '../../../../firmware-protocol/src/index.ts';
import { BusError } from './errors.ts';

export interface DriveRef {
  readonly id: string;
  /** Modbus unit id, or Dynamixel device ID. */
  readonly unit: number;
  readonly profile: profiles.DriveProfile;
}

export type Values = Record<string, number>;

export interface DriveAccess {
  /** Bytes from the link. */
  feed(chunk: Uint8Array): void;
  /** The link went down: the transaction in flight ends with `err`. */
  abort(err: BusError): void;
  /** Reads `blocks` (planned by `profiles.planReads`) and decodes every object in them. */
  readBlocks(d: DriveRef, blocks: readonly profiles.ReadBlock[]): Promise<Values>;
  /** Plans a read of `names`; BAD_REQUEST for a name the profile does not map. */
  prepareRead(d: DriveRef, names: readonly string[]): () => Promise<Values>;
  /** Encodes a write of `values` in order; BAD_REQUEST when the profile cannot encode one. */
  prepareWrite(d: DriveRef, values: readonly (readonly [string, number])[]): () => Promise<void>;
}

/** Runs `fn`, turning the profile's ProtocolError into BAD_REQUEST for drive `d`. */
export function encodeFor<T>(d: DriveRef, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isProtocolError(err)) {
      throw new BusError('BAD_REQUEST', `${d.id}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Decodes a block; a reply that does not fit the plan is BAD_RESPONSE (a comm failure). */
export function decodeFor(d: DriveRef, block: profiles.ReadBlock, decode: () => Values): Values {
  try {
    return decode();
  } catch (err) {
    throw new BusError(
      'BAD_RESPONSE',
      `${d.id}: the reply to a read of ${block.quantity} at ${block.address} does not decode`,
      { cause: err },
    );
  }
}

/**
 * One write transaction of a plan: consecutive entries whose addresses follow each
 * other are merged (in request order only, so the order of effects is the caller's).
 */
export interface WriteChunk<T> {
  address: number;
  /** Registers (Modbus) or bytes (Dynamixel). */
  data: T[];
  names: string[];
}

export function mergeWrites<T>(
  encoded: readonly { name: string; address: number; data: readonly T[] }[],
  maxUnits: number,
): WriteChunk<T>[] {
  const chunks: WriteChunk<T>[] = [];
  let last: WriteChunk<T> | undefined;
  for (const e of encoded) {
    if (
      last !== undefined &&
      last.address + last.data.length === e.address &&
      last.data.length + e.data.length <= maxUnits
    ) {
      last.data.push(...e.data);
      last.names.push(e.name);
      continue;
    }
    last = { address: e.address, data: [...e.data], names: [e.name] };
    chunks.push(last);
  }
  return chunks;
}
