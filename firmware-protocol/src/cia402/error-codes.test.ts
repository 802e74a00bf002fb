import { describe, expect, it } from 'vitest';
import { describeErrorCode, ErrorCode, formatErrorCode, parseErrorCode } from './error-codes.ts';

describe('describeErrorCode', () => {
  it('describes the listed CiA 402 codes', () => {
    expect(describeErrorCode(0x4310)).toEqual({
      code: 0x4310,
      hex: '0x4310',
      name: 'OVERTEMPERATURE',
      text: 'Excess drive temperature',
    });
    expect(describeErrorCode(ErrorCode.FOLLOWING_ERROR)).toMatchObject({
      hex: '0x8611',
      name: 'FOLLOWING_ERROR',
    });
    expect(describeErrorCode(0x2310).name).toBe('OVERCURRENT');
    expect(describeErrorCode(0x3210).name).toBe('OVERVOLTAGE');
    expect(describeErrorCode(0x7305).name).toBe('ENCODER');
    expect(describeErrorCode(0).text).toBe('No error');
  });

  it.each([
    [0x1000, 'GENERIC'],
    [0x2399, 'CURRENT'],
    [0x3333, 'VOLTAGE'],
    [0x4210, 'TEMPERATURE'],
    [0x5530, 'DEVICE_HARDWARE'],
    [0x6100, 'DEVICE_SOFTWARE'],
    [0x7500, 'ADDITIONAL_MODULES'],
    [0x8130, 'MONITORING'],
    [0x9000, 'EXTERNAL'],
    [0xf001, 'ADDITIONAL_FUNCTIONS'],
    [0xff42, 'DEVICE_SPECIFIC'],
    [0x0123, 'RESERVED'],
    [0xa000, 'RESERVED'],
  ])('describes unlisted 0x%s by its class %s', (code, name) => {
    const d = describeErrorCode(code);
    expect(d.name).toBe(name);
    expect(d.text).toContain(formatErrorCode(code));
  });

  it('formats hex with four upper-case digits', () => {
    expect(describeErrorCode(0xff0a).hex).toBe('0xFF0A');
    expect(describeErrorCode(0x10).hex).toBe('0x0010');
  });

  it('refuses a value that is not a 16-bit code', () => {
    for (const bad of [-1, 0x10000, 1.5]) {
      expect(() => describeErrorCode(bad)).toThrow(
        expect.objectContaining({ code: 'VALUE_OUT_OF_RANGE' }),
      );
    }
  });
});

describe('parseErrorCode', () => {
  it.each([
    ['0x4310', 0x4310],
    ['0X4310', 0x4310],
    ['4310h', 0x4310],
    ['4310H', 0x4310],
    ['ff00h', 0xff00],
    ['17168', 17168],
    [' 0x8611 ', 0x8611],
    [17168, 0x4310],
  ] as const)('%s → %s', (input, code) => {
    expect(parseErrorCode(input)).toBe(code);
  });

  it('reads a bare digit string as decimal (hex needs 0x or h)', () => {
    expect(parseErrorCode('4310')).toBe(4310);
  });

  it.each(['', 'x4310', '0x12345', 'overheat', '65536', '-1', '0x'])('refuses %j', (input) => {
    expect(() => parseErrorCode(input)).toThrow(
      expect.objectContaining({ code: 'VALUE_OUT_OF_RANGE' }),
    );
  });
});
