import { describe, expect, it } from 'vitest';
import {
  CONTROL_COMMANDS,
  type ControlCommand,
  Controlword,
  ControlwordBit,
  decodeControlCommand,
  newSetpoint,
} from './controlword.ts';

describe('Controlword', () => {
  it('has the CiA 402 command values', () => {
    expect(Controlword).toEqual({
      SHUTDOWN: 0x06,
      SWITCH_ON: 0x07,
      ENABLE_OPERATION: 0x0f,
      DISABLE_VOLTAGE: 0x00,
      QUICK_STOP: 0x02,
      DISABLE_OPERATION: 0x07,
      FAULT_RESET: 0x80,
    });
    expect(ControlwordBit).toMatchObject({
      NewSetpoint: 4,
      ChangeSetImmediately: 5,
      Relative: 6,
      FaultReset: 7,
      Halt: 8,
    });
  });

  it('each command value decodes as its command (disable operation = switch on bits)', () => {
    for (const cmd of CONTROL_COMMANDS) {
      const expected: ControlCommand = cmd === 'DISABLE_OPERATION' ? 'SWITCH_ON' : cmd;
      expect(decodeControlCommand(Controlword[cmd], 0)).toBe(expected);
    }
  });
});

describe('decodeControlCommand', () => {
  // CiA 402-2 Table 27, every combination of bits 0–3 with bit 7 low.
  const table: [number, ControlCommand][] = [];
  for (let low = 0; low < 16; low++) {
    const b0 = low & 1;
    const b1 = (low >> 1) & 1;
    const b2 = (low >> 2) & 1;
    const b3 = (low >> 3) & 1;
    let cmd: ControlCommand;
    if (b1 === 0)
      cmd = 'DISABLE_VOLTAGE'; // 0 x x 0 x
    else if (b2 === 0)
      cmd = 'QUICK_STOP'; // 0 x 0 1 x
    else if (b0 === 0)
      cmd = 'SHUTDOWN'; // 0 x 1 1 0
    else cmd = b3 === 0 ? 'SWITCH_ON' : 'ENABLE_OPERATION';
    table.push([low, cmd]);
  }
  it.each(table)('bits 0–3 = 0x%s → %s', (cw, cmd) => {
    expect(decodeControlCommand(cw, 0)).toBe(cmd);
    // Mode-specific bits 4–6, 8 do not change the command.
    expect(decodeControlCommand(cw | 0x170, 0x170)).toBe(cmd);
  });

  it('fault reset is the rising edge of bit 7 only', () => {
    expect(decodeControlCommand(0x80, 0x00)).toBe('FAULT_RESET');
    expect(decodeControlCommand(0x8f, 0x0f)).toBe('FAULT_RESET');
    expect(decodeControlCommand(0x80, 0x80)).toBeNull(); // held high: no command
    expect(decodeControlCommand(0x86, 0x80)).toBeNull();
    expect(decodeControlCommand(0x06, 0x80)).toBe('SHUTDOWN'); // falling edge: a normal command
  });

  it('looks at 16 bits only', () => {
    expect(decodeControlCommand(0x1_000f, 0)).toBe('ENABLE_OPERATION');
  });
});

describe('newSetpoint', () => {
  it('sets bit 4 and keeps the rest of base', () => {
    expect(newSetpoint(0x0f)).toBe(0x1f);
    expect(newSetpoint(0x010f)).toBe(0x011f); // halt kept
  });
  it('sets or clears bit 5 (immediate) and bit 6 (relative)', () => {
    expect(newSetpoint(0x0f, { relative: true })).toBe(0x5f);
    expect(newSetpoint(0x0f, { immediate: true })).toBe(0x3f);
    expect(newSetpoint(0x0f, { relative: true, immediate: true })).toBe(0x7f);
    expect(newSetpoint(0x6f, { relative: false, immediate: false })).toBe(0x1f);
  });
  it('refuses a value that is not 16-bit', () => {
    for (const bad of [-1, 0x10000, 1.5, Number.NaN]) {
      expect(() => newSetpoint(bad)).toThrow(
        expect.objectContaining({ code: 'VALUE_OUT_OF_RANGE' }),
      );
    }
  });
});
