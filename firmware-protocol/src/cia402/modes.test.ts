import { describe, expect, it } from 'vitest';
import { Mode, modeName, modeNumber } from './modes.ts';
import { Objects, objectNameOf } from './objects.ts';

describe('modes of operation', () => {
  it('numbers the CiA 402 modes', () => {
    expect(Mode).toEqual({ PP: 1, PV: 3, PT: 4, HOMING: 6, IP: 7, CSP: 8, CSV: 9, CST: 10 });
  });
  it('names a mode number and back', () => {
    for (const [name, n] of Object.entries(Mode)) {
      expect(modeName(n)).toBe(name);
      expect(modeNumber(name)).toBe(n);
    }
  });
  it('has no name for 0, reserved and manufacturer-specific modes', () => {
    for (const n of [0, 2, 5, 11, -1, -3, 127]) expect(modeName(n)).toBeNull();
  });
  it('reads names case-insensitively and rejects others', () => {
    expect(modeNumber('csp')).toBe(8);
    expect(modeNumber('Homing')).toBe(6);
    expect(modeNumber('position')).toBeNull();
    expect(modeNumber('toString')).toBeNull();
  });
});

describe('Objects', () => {
  it('holds the CiA 402 indexes of DESIGN.md', () => {
    expect(Objects.controlword).toBe(0x6040);
    expect(Objects.statusword).toBe(0x6041);
    expect(Objects.modesOfOperation).toBe(0x6060);
    expect(Objects.modesOfOperationDisplay).toBe(0x6061);
    expect(Objects.positionActual).toBe(0x6064);
    expect(Objects.velocityActual).toBe(0x606c);
    expect(Objects.torqueActual).toBe(0x6077);
    expect(Objects.targetPosition).toBe(0x607a);
    expect(Objects.targetVelocity).toBe(0x60ff);
    expect(Objects.profileVelocity).toBe(0x6081);
    expect(Objects.profileAcceleration).toBe(0x6083);
    expect(Objects.profileDeceleration).toBe(0x6084);
    expect(Objects.targetTorque).toBe(0x6071);
    expect(Objects.errorCode).toBe(0x603f);
  });
  it('finds the name of an index', () => {
    expect(objectNameOf(0x6041)).toBe('statusword');
    expect(objectNameOf(0x1000)).toBeNull();
  });
});
