import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CIA402_STATES, Cia402State } from './states.ts';
import {
  decodeStatusword,
  decodeStatuswordFlags,
  encodeStatusword,
  StatuswordBit,
  tryDecodeStatusword,
} from './statusword.ts';

const S = Cia402State;

// CiA 402-2 Table 30. Each row: statusword, state. Bits: 6 SOD, 5 QS, 4 VE, 3 F, 2 OE, 1 SO, 0 RTSO.
const TABLE: [number, Cia402State][] = [
  [0x0000, S.NOT_READY_TO_SWITCH_ON], //  x0xx 0000
  [0x0010, S.NOT_READY_TO_SWITCH_ON], //  bit 4 set
  [0x0020, S.NOT_READY_TO_SWITCH_ON], //  bit 5 don't care
  [0x0030, S.NOT_READY_TO_SWITCH_ON],
  [0x0040, S.SWITCH_ON_DISABLED], //      x1xx 0000
  [0x0050, S.SWITCH_ON_DISABLED],
  [0x0060, S.SWITCH_ON_DISABLED],
  [0x0250, S.SWITCH_ON_DISABLED], //      remote + voltage enabled, a common real value
  [0x0021, S.READY_TO_SWITCH_ON], //      x01x 0001
  [0x0031, S.READY_TO_SWITCH_ON],
  [0x0023, S.SWITCHED_ON], //             x01x 0011
  [0x0033, S.SWITCHED_ON],
  [0x0027, S.OPERATION_ENABLED], //       x01x 0111
  [0x0037, S.OPERATION_ENABLED],
  [0x1637, S.OPERATION_ENABLED], //       + target reached, remote, setpoint ack
  [0x0007, S.QUICK_STOP_ACTIVE], //       x00x 0111
  [0x0017, S.QUICK_STOP_ACTIVE],
  [0x000f, S.FAULT_REACTION_ACTIVE], //   x0xx 1111
  [0x001f, S.FAULT_REACTION_ACTIVE],
  [0x002f, S.FAULT_REACTION_ACTIVE],
  [0x003f, S.FAULT_REACTION_ACTIVE],
  [0x0008, S.FAULT], //                   x0xx 1000
  [0x0018, S.FAULT],
  [0x0028, S.FAULT],
  [0x0038, S.FAULT],
  [0x0218, S.FAULT],
];

/** An independent reference: ros2_canopen State402::read, bit by bit. */
function reference(sw: number): Cia402State | null {
  const r = sw & 1;
  const s = (sw >> 1) & 1;
  const o = (sw >> 2) & 1;
  const f = (sw >> 3) & 1;
  const q = (sw >> 5) & 1;
  const d = (sw >> 6) & 1;
  const key = `${d}${q}${f}${o}${s}${r}`;
  const map: Record<string, Cia402State> = {
    '000000': S.NOT_READY_TO_SWITCH_ON,
    '010000': S.NOT_READY_TO_SWITCH_ON,
    '100000': S.SWITCH_ON_DISABLED,
    '110000': S.SWITCH_ON_DISABLED,
    '010001': S.READY_TO_SWITCH_ON,
    '010011': S.SWITCHED_ON,
    '010111': S.OPERATION_ENABLED,
    '000111': S.QUICK_STOP_ACTIVE,
    '001111': S.FAULT_REACTION_ACTIVE,
    '011111': S.FAULT_REACTION_ACTIVE,
    '001000': S.FAULT,
    '011000': S.FAULT,
  };
  return map[key] ?? null;
}

describe('decodeStatusword', () => {
  it.each(TABLE)('0x%s decodes as %s', (sw, state) => {
    expect(decodeStatusword(sw)).toBe(state);
    expect(tryDecodeStatusword(sw)).toBe(state);
  });

  it('ignores bit 4 (voltage enabled) and the flag bits 7–15', () => {
    for (const [sw, state] of TABLE) {
      expect(decodeStatusword(sw ^ 0x10)).toBe(state);
      expect(decodeStatusword(sw | 0xff80)).toBe(state);
    }
  });

  it('agrees with the bit-by-bit reference on every combination of bits 0–6', () => {
    for (let sw = 0; sw < 0x80; sw++) {
      expect(tryDecodeStatusword(sw)).toBe(reference(sw));
    }
  });

  it('decodes an undefined pattern as NOT_READY_TO_SWITCH_ON (nothing is commanded)', () => {
    // 0x01: ready to switch on without the quick-stop bit; 0x48: SOD + fault; 0x6f.
    for (const sw of [0x01, 0x03, 0x48, 0x4f, 0x61, 0x6f, 0x25]) {
      expect(tryDecodeStatusword(sw)).toBeNull();
      expect(decodeStatusword(sw)).toBe(S.NOT_READY_TO_SWITCH_ON);
    }
  });
});

describe('encodeStatusword', () => {
  it('writes the CiA 402 pattern of each state', () => {
    expect(CIA402_STATES.map((s) => encodeStatusword(s))).toEqual([
      0x00, 0x40, 0x21, 0x23, 0x27, 0x07, 0x0f, 0x08,
    ]);
  });

  it('sets each flag on its bit', () => {
    const all = encodeStatusword(S.OPERATION_ENABLED, {
      voltageEnabled: true,
      warning: true,
      remote: true,
      targetReached: true,
      internalLimit: true,
      setpointAck: true,
      followingError: true,
    });
    expect(all).toBe(0x27 | 0x10 | 0x80 | 0x200 | 0x400 | 0x800 | 0x1000 | 0x2000);
    expect(encodeStatusword(S.FAULT, { setpointAck: true })).toBe(0x1008);
    expect(encodeStatusword(S.FAULT, { setpointAck: false, remote: true })).toBe(0x0208);
    expect(1 << StatuswordBit.FollowingError).toBe(0x2000);
  });

  it('round-trips every state with any flags', () => {
    const flags = fc.record(
      {
        voltageEnabled: fc.boolean(),
        warning: fc.boolean(),
        remote: fc.boolean(),
        targetReached: fc.boolean(),
        internalLimit: fc.boolean(),
        setpointAck: fc.boolean(),
        followingError: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.constantFrom(...CIA402_STATES), flags, (state, f) => {
        const sw = encodeStatusword(state, f);
        expect(decodeStatusword(sw)).toBe(state);
        const back = decodeStatuswordFlags(sw);
        for (const [k, v] of Object.entries(f)) expect(back[k as keyof typeof back]).toBe(v);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a value that is not a state', () => {
    expect(() => encodeStatusword('ENABLED' as Cia402State)).toThrow(
      expect.objectContaining({ code: 'VALUE_OUT_OF_RANGE' }),
    );
  });
});

describe('decodeStatuswordFlags', () => {
  it('reads bits 4, 7, 9–13', () => {
    expect(decodeStatuswordFlags(0x1637)).toEqual({
      voltageEnabled: true,
      warning: false,
      remote: true,
      targetReached: true,
      internalLimit: false,
      setpointAck: true,
      followingError: false,
    });
    expect(decodeStatuswordFlags(0x2880)).toEqual({
      voltageEnabled: false,
      warning: true,
      remote: false,
      targetReached: false,
      internalLimit: true,
      setpointAck: false,
      followingError: true,
    });
  });
});
