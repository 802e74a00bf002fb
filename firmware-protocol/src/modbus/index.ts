/**
 * Modbus (RTU and TCP), sans-IO: codecs for requests and responses of function codes
 * 0x03, 0x04, 0x06, 0x10, 0x17, and incremental framers fed with bytes and timestamps.
 */
export type { RtuFramerOptions } from './framer-options.ts';
export type { FramerStats } from './framer-stats.ts';
export {
  ExceptionCode,
  exceptionName,
  FunctionCode,
  MAX_READ_QUANTITY,
  MAX_READ_WRITE_QUANTITY,
  MAX_RTU_ADU_LENGTH,
  MAX_WRITE_QUANTITY,
} from './function-codes.ts';
export type { ExceptionResponse, ModbusRequest, ModbusResponse, RtuFrame } from './messages.ts';
export { isExceptionResponse, responseToError } from './messages.ts';
export { decodeRequestPdu, encodeRequestPdu } from './request-pdu.ts';
export { decodeResponsePdu, encodeResponsePdu } from './response-pdu.ts';
export {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  expectedResponseLength,
  requestLength,
} from './rtu.ts';
export { RtuMasterFramer } from './rtu-master-framer.ts';
export type { RejectedRequest, SlaveFramerStats, SlaveRequest } from './rtu-slave-framer.ts';
export { isRejectedRequest, RtuSlaveFramer } from './rtu-slave-framer.ts';
export { silenceMs } from './silence.ts';
export type { TcpFrame } from './tcp.ts';
export { encodeTcp, TcpFramer } from './tcp.ts';
