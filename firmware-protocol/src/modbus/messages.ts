/**
 * The decoded form of Modbus requests and responses: plain objects, one variant per
 * function code (Modbus Application Protocol V1.1b3 §6), registers as numbers 0..0xFFFF.
 */
import { ProtocolError } from '../errors.ts';
import { exceptionName, hex } from './function-codes.ts';

export type ModbusRequest =
  /** §6.3 read holding registers / §6.4 read input registers */
  | { fc: 0x03 | 0x04; address: number; quantity: number }
  /** §6.6 write single register */
  | { fc: 0x06; address: number; value: number }
  /** §6.12 write multiple registers */
  | { fc: 0x10; address: number; values: number[] }
  /** §6.17 read/write multiple registers (the write happens before the read) */
  | { fc: 0x17; readAddress: number; readQuantity: number; writeAddress: number; values: number[] };

/** A normal response of any function code, or an exception response (§7). */
export type ModbusResponse =
  | { fc: 0x03 | 0x04 | 0x17; values: number[] }
  | { fc: 0x06; address: number; value: number }
  | { fc: 0x10; address: number; quantity: number }
  | ExceptionResponse;

/** §7: the slave's `fc | 0x80` reply; `fc` here is the original function code. */
export interface ExceptionResponse {
  fc: number;
  exception: number;
}

/** An RTU frame: the unit (slave address) and its decoded PDU. */
export interface RtuFrame<T> {
  unit: number;
  pdu: T;
}

export function isExceptionResponse(res: ModbusResponse): res is ExceptionResponse {
  return 'exception' in res;
}

/**
 * `MODBUS_EXCEPTION` with the exception code as `wireCode` when `res` is an exception
 * response (§7), otherwise `undefined`.
 */
export function responseToError(res: ModbusResponse): ProtocolError | undefined {
  if (!('exception' in res)) return undefined;
  return new ProtocolError(
    'MODBUS_EXCEPTION',
    `Modbus exception 0x${hex(res.exception)} (${exceptionName(res.exception)}) for function 0x${hex(res.fc)}`,
    { wireCode: res.exception },
  );
}
