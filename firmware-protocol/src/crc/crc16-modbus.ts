/**
 * CRC-16/MODBUS: init 0xFFFF, reflected polynomial 0xA001 (0x8005 reversed), no final
 * XOR. Modbus over serial line V1.02 §6.2.2. On the wire the low byte goes first:
 * `01 03 00 00 00 0A` → CRC 0xCDC5 → bytes `C5 CD`. Check value ("123456789") 0x4B37.
 */

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC of `bytes[start, end)`; the default range is the whole array. */
export function crc16Modbus(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return crc;
}
