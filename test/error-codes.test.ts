/**
 * Every error code a folder defines is documented in that folder's ERRORS.md, and the
 * docs list no code that does not exist (STYLE.md §6).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES as SIM_CODES } from '../device-sim/src/index.ts';
import { ERROR_CODES as PROTOCOL_CODES } from '../firmware-protocol/src/index.ts';
import { ERROR_CODES as CONTRACT_CODES } from '../services/contract/src/index.ts';
import { ERROR_CODES as DEVICE_CODES } from '../services/device/src/bus/index.ts';
import { ERROR_CODES as GATEWAY_CODES } from '../services/gateway/src/errors.ts';
import { ERROR_CODES as RUNTIME_CODES } from '../services/runtime/src/index.ts';

const root = resolve(import.meta.dirname, '..');

const FOLDERS: [string, Record<string, string>][] = [
  ['firmware-protocol/ERRORS.md', PROTOCOL_CODES],
  ['services/runtime/ERRORS.md', RUNTIME_CODES],
  ['device-sim/ERRORS.md', SIM_CODES],
  ['services/contract/ERRORS.md', CONTRACT_CODES],
  ['services/device/ERRORS.md', DEVICE_CODES],
  ['services/gateway/ERRORS.md', GATEWAY_CODES],
];

describe.each(FOLDERS)('%s', (doc, codes) => {
  const documented = [
    ...readFileSync(resolve(root, doc), 'utf8').matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|/gm),
  ].map((m) => m[1]);
  it('documents every code', () => {
    expect(Object.keys(codes).filter((c) => !documented.includes(c))).toEqual([]);
  });
  it('documents no code that does not exist', () => {
    expect(documented.filter((c) => !(c! in codes))).toEqual([]);
  });
});
