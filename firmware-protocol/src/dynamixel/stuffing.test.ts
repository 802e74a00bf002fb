import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { stuff, stuffingCount, unstuff, unstuffRange } from './stuffing.ts';
import { headerishBytes } from './test-arbitraries.ts';
import { fromHex } from './test-vectors.ts';

// [original body, stuffed body] (ROBOTIS Protocol 2.0 e-manual §Packet Process)
const TABLE: readonly [string, string, string][] = [
  ['no pattern', '03 74 00 00 02', '03 74 00 00 02'],
  ['FF FD alone is not the pattern', '01 FF FD 03', '01 FF FD 03'],
  ['FF FF FD gets one FD', '03 FF FF FD 07', '03 FF FF FD FD 07'],
  ['at the end of the body', '03 FF FF FD', '03 FF FF FD FD'],
  ['FF FF FD FD: the original FD is data', 'FF FF FD FD', 'FF FF FD FD FD'],
  ['FF FF FF FD: the last FF FF counts', 'FF FF FF FD 00', 'FF FF FF FD FD 00'],
  ['twice', 'FF FF FD FF FF FD', 'FF FF FD FD FF FF FD FD'],
  ['an inserted FD never starts a new match', 'FF FF FD FF FD', 'FF FF FD FD FF FD'],
  ['empty', '', ''],
];

const bytes = (hex: string) => (hex === '' ? new Uint8Array(0) : fromHex(hex));

describe('byte stuffing', () => {
  for (const [name, original, stuffed] of TABLE) {
    it(`stuff: ${name}`, () => {
      expect(stuff(bytes(original))).toEqual(bytes(stuffed));
      expect(stuffingCount(bytes(original))).toBe(bytes(stuffed).length - bytes(original).length);
    });
    it(`unstuff: ${name}`, () => {
      expect(unstuff(bytes(stuffed))).toEqual(bytes(original));
    });
  }

  it('returns new arrays, never its input', () => {
    const b = fromHex('01 02 03');
    expect(stuff(b)).not.toBe(b);
    expect(unstuff(b)).not.toBe(b);
  });

  it('rejects FF FF FD not followed by the stuffing FD', () => {
    for (const hex of ['FF FF FD 00', 'FF FF FD', '01 FF FF FD FD FF FF FD 02']) {
      expect(() => unstuff(fromHex(hex))).toThrow(ProtocolError);
      try {
        unstuff(fromHex(hex));
      } catch (err) {
        expect((err as ProtocolError).code).toBe('DXL_BAD_PACKET');
      }
    }
  });

  it('unstuffRange leaves out the first bytes asked for', () => {
    const src = fromHex('AA 55 00 FF FF FD FD 01 BB');
    expect(unstuffRange(src, 1, 8, 2)).toEqual(fromHex('FF FF FD 01'));
    expect(unstuffRange(src, 1, 3, 2)).toEqual(new Uint8Array(0));
  });

  it('unstuff(stuff(x)) = x', () => {
    fc.assert(
      fc.property(headerishBytes(64), (x) => {
        expect(unstuff(stuff(x))).toEqual(x);
      }),
      { numRuns: 500 },
    );
  });

  it('stuffed bytes never hold FF FF FD followed by anything but FD', () => {
    fc.assert(
      fc.property(headerishBytes(64), (x) => {
        const s = stuff(x);
        for (let i = 0; i + 2 < s.length; i++) {
          if (s[i] === 0xff && s[i + 1] === 0xff && s[i + 2] === 0xfd) expect(s[i + 3]).toBe(0xfd);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('unstuff of random bytes returns or throws ProtocolError, and stuff undoes it', () => {
    fc.assert(
      fc.property(headerishBytes(64), (x) => {
        let u: Uint8Array;
        try {
          u = unstuff(x);
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
          return;
        }
        expect(stuff(u)).toEqual(x);
      }),
      { numRuns: 500 },
    );
  });
});
