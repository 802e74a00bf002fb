/**
 * Every error code of the line controller is documented in services/line/ERRORS.md, and
 * the document lists no code that does not exist (STYLE.md §6). The codes it replies
 * with to line commands are contract codes (services/contract/ERRORS.md).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/index.ts';

describe('services/line/ERRORS.md', () => {
  const documented = [
    ...readFileSync(resolve(import.meta.dirname, '../ERRORS.md'), 'utf8').matchAll(
      /^\|\s*`([A-Z0-9_]+)`\s*\|/gm,
    ),
  ].map((m) => m[1]);
  it('documents every code', () => {
    expect(Object.keys(ERROR_CODES).filter((c) => !documented.includes(c))).toEqual([]);
  });
  it('documents no code that does not exist', () => {
    expect(documented.filter((c) => !(c! in ERROR_CODES))).toEqual([]);
  });
});
