/**
 * CRC-16 of Dynamixel Protocol 2.0: polynomial 0x8005, init 0, not reflected, no final
 * XOR (CRC-16/UMTS, a.k.a. CRC-16/BUYPASS). Computed over the packet from the first
 * header byte to the last parameter, low byte first on the wire.
 * Ping to id 1 (`FF FF FD 00 01 03 00 01`) → bytes `19 4E`; "123456789" → 0xFEE8.
 */

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x8005) & 0xffff : (c << 1) & 0xffff;
    t[n] = c;
  }
  return t;
})();

/** CRC of `bytes[start, end)`; the default range is the whole array. */
export function crc16Dynamixel(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++)
    crc = ((crc << 8) ^ TABLE[((crc >>> 8) ^ bytes[i]!) & 0xff]!) & 0xffff;
  return crc;
}
