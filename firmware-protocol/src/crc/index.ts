export { crc16Dynamixel } from './crc16-dynamixel.ts';
export { crc16Modbus } from './crc16-modbus.ts';
