import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { silenceMs } from './index.ts';

describe('silenceMs (Modbus over serial line V1.02 §2.5.1.1)', () => {
  it('is 3.5 character times up to 19200 baud', () => {
    expect(silenceMs(9600)).toBeCloseTo((3.5 * 10 * 1000) / 9600, 9);
    expect(silenceMs(9600, 11)).toBeCloseTo((3.5 * 11 * 1000) / 9600, 9);
    expect(silenceMs(19200)).toBeCloseTo((3.5 * 10 * 1000) / 19200, 9);
    expect(silenceMs(1200)).toBeCloseTo(29.1666, 3);
  });

  it('is fixed at 1.75 ms above 19200 baud', () => {
    expect(silenceMs(19201)).toBe(1.75);
    expect(silenceMs(115200)).toBe(1.75);
    expect(silenceMs(1_000_000, 11)).toBe(1.75);
  });

  it('rejects rates that are not positive', () => {
    for (const baud of [0, -9600, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => silenceMs(baud)).toThrow(ProtocolError);
    }
    expect(() => silenceMs(9600, 0)).toThrow(ProtocolError);
  });
});
