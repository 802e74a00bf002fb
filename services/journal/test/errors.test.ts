/** Every error code of the journal is documented in ERRORS.md, and no other (STYLE.md §6). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { ERROR_CODES } from '../src/index.ts';

const documented = [
  ...readFileSync(resolve(import.meta.dirname, '../ERRORS.md'), 'utf8').matchAll(
    /^\|\s*`([A-Z0-9_]+)`\s*\|/gm,
  ),
].map((m) => m[1]);

it('ERRORS.md documents every code of the journal, and only those', () => {
  expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
});
