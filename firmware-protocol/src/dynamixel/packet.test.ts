import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16Dynamixel } from '../crc/crc16-dynamixel.ts';
import { ProtocolError } from '../errors.ts';
import { decodePacket, encodeInstruction, encodeStatus, type Packet } from './packet.ts';
import { anyPacket } from './test-arbitraries.ts';
import { ALL_VECTORS, bytesOf, fromHex } from './test-vectors.ts';

function encode(p: Packet): Uint8Array {
  return p.kind === 'instruction' ? encodeInstruction(p) : encodeStatus(p);
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(code);
    return;
  }
  expect.fail(`expected ProtocolError ${code}`);
}

/** Re-encodes `bytes` with a correct CRC after editing them. */
function withCrc(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const crc = crc16Dynamixel(out, 0, out.length - 2);
  out[out.length - 2] = crc & 0xff;
  out[out.length - 1] = crc >>> 8;
  return out;
}

describe('packet round trip tables (ROBOTIS Protocol 2.0 e-manual examples)', () => {
  for (const v of ALL_VECTORS) {
    it(`decode: ${v.name}`, () => {
      expect(decodePacket(bytesOf(v.wire))).toEqual(v.packet);
    });
    it(`encode: ${v.name}`, () => {
      expect(encode(v.packet)).toEqual(bytesOf(v.wire));
    });
  }

  it('the ping to ID 1 is FF FF FD 00 01 03 00 01 19 4E (DESIGN)', () => {
    expect(encodeInstruction({ id: 1, instruction: 0x01, params: new Uint8Array(0) })).toEqual(
      fromHex('FF FF FD 00 01 03 00 01 19 4E'),
    );
  });
});

describe('decodePacket checks', () => {
  const ping = fromHex('FF FF FD 00 01 03 00 01 19 4E');

  it('rejects packets shorter than 10 bytes', () => {
    expectCode(() => decodePacket(ping.subarray(0, 9)), 'DXL_BAD_PACKET');
  });

  it('rejects a bad header', () => {
    for (const at of [0, 1, 2]) {
      const b = ping.slice();
      b[at] = 0x00;
      expectCode(() => decodePacket(b), 'DXL_BAD_PACKET');
    }
  });

  it('rejects a reserved byte other than 00 (FF FF FD FD is stuffing)', () => {
    const b = ping.slice();
    b[3] = 0xfd;
    expectCode(() => decodePacket(withCrc(b)), 'DXL_BAD_PACKET');
  });

  it('rejects a LEN that does not match the byte count', () => {
    const b = ping.slice();
    b[5] = 0x04;
    expectCode(() => decodePacket(b), 'DXL_BAD_PACKET');
    expectCode(() => decodePacket(Uint8Array.from([...ping, 0x00])), 'DXL_BAD_PACKET');
  });

  it('rejects a CRC that does not check, with DXL_CRC', () => {
    const b = ping.slice();
    b[9] ^= 0x01;
    expectCode(() => decodePacket(b), 'DXL_CRC');
    const c = ping.slice();
    c[7] = 0x02; // instruction changed, CRC not updated
    expectCode(() => decodePacket(c), 'DXL_CRC');
  });

  it('rejects the unused IDs 0xFD and 0xFF', () => {
    for (const id of [0xfd, 0xff]) {
      const b = ping.slice();
      b[4] = id;
      expectCode(() => decodePacket(withCrc(b)), 'DXL_BAD_PACKET');
    }
  });

  it('rejects a status packet without an error byte (LEN 3)', () => {
    expectCode(
      () => decodePacket(withCrc(fromHex('FF FF FD 00 01 03 00 55 00 00'))),
      'DXL_BAD_PACKET',
    );
  });

  it('rejects an FF FF FD in the body that is not stuffed', () => {
    // write ID 1, params 74 00 FF FF FD 7F sent without the stuffing byte
    const b = withCrc(fromHex('FF FF FD 00 01 09 00 03 74 00 FF FF FD 7F 00 00'));
    expectCode(() => decodePacket(b), 'DXL_BAD_PACKET');
  });

  it('returns params that do not alias the input', () => {
    const b = fromHex('FF FF FD 00 01 08 00 55 00 A6 00 00 00 8C C0');
    const p = decodePacket(b);
    b[9] = 0x00;
    expect(p.params[0]).toBe(0xa6);
  });

  it('leaves the body of a status packet with ID 0xFE (fast read reply) unstuffed', () => {
    const p: Packet = { kind: 'status', id: 0xfe, error: 0, params: fromHex('01 FF FF FD 00') };
    const b = encodeStatus(p);
    expect(b.length).toBe(7 + 2 + 5 + 2); // no stuffing byte
    expect(decodePacket(b)).toEqual(p);
  });
});

describe('encoders check their arguments', () => {
  it('reject IDs 0xFD, 0xFF and out-of-byte values', () => {
    for (const id of [0xfd, 0xff, -1, 256, 1.5]) {
      expectCode(
        () => encodeInstruction({ id, instruction: 1, params: new Uint8Array(0) }),
        'VALUE_OUT_OF_RANGE',
      );
      expectCode(
        () => encodeStatus({ id, error: 0, params: new Uint8Array(0) }),
        'VALUE_OUT_OF_RANGE',
      );
    }
    expectCode(
      () => encodeInstruction({ id: 1, instruction: 256, params: new Uint8Array(0) }),
      'VALUE_OUT_OF_RANGE',
    );
    expectCode(
      () => encodeStatus({ id: 1, error: -1, params: new Uint8Array(0) }),
      'VALUE_OUT_OF_RANGE',
    );
  });

  it('reject instruction 0x55, the status marker', () => {
    expectCode(
      () => encodeInstruction({ id: 1, instruction: 0x55, params: new Uint8Array(0) }),
      'VALUE_OUT_OF_RANGE',
    );
  });

  it('reject a LEN above 65535, stuffing included', () => {
    expectCode(
      () => encodeInstruction({ id: 1, instruction: 3, params: new Uint8Array(65533) }),
      'FRAME_TOO_LONG',
    );
    expect(encodeInstruction({ id: 1, instruction: 3, params: new Uint8Array(65532) }).length).toBe(
      7 + 65535,
    );
    // 65532 params whose FF FF FD needs one stuffing byte: LEN 65536
    const params = new Uint8Array(65532);
    params.set([0xff, 0xff, 0xfd]);
    expectCode(() => encodeInstruction({ id: 1, instruction: 3, params }), 'FRAME_TOO_LONG');
  });
});

describe('properties', () => {
  it('decode(encode(x)) = x, params full of FF FF FD', () => {
    fc.assert(
      fc.property(anyPacket(), (p) => {
        expect(decodePacket(encode(p))).toEqual(p);
      }),
      { numRuns: 500 },
    );
  });

  it('encoded packets never hold a header FF FF FD 00 after their first byte, except fast read replies', () => {
    fc.assert(
      fc.property(anyPacket(), (p) => {
        const b = encode(p);
        let headers = 0;
        for (let i = 0; i + 3 < b.length; i++) {
          if (b[i] === 0xff && b[i + 1] === 0xff && b[i + 2] === 0xfd && b[i + 3] === 0x00)
            headers++;
        }
        if (!(p.kind === 'status' && p.id === 0xfe)) expect(headers).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes make decodePacket throw ProtocolError or return a packet, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          const p = decodePacket(bytes);
          expect(encode(p)).toEqual(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
