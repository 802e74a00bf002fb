/**
 * Reading profiles from disk: the only I/O in `profiles/`. File-system errors
 * (ENOENT, EACCES) are thrown as Node raises them; content errors are PROFILE_INVALID.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { ProtocolError } from '../errors.ts';
import { parseProfile } from './parse.ts';
import type { DriveProfile } from './schema.ts';

const EXTENSIONS = new Set(['.yaml', '.yml']);

/**
 * Loads one profile file. Its `name` must equal the file's base name
 * (`sf-servo.yaml` holds `name: sf-servo`): fleet files refer to profiles by name,
 * and a copied file that kept the old name would otherwise shadow it.
 */
export function loadProfileFile(path: string): DriveProfile {
  const profile = parseProfile(readFileSync(path, 'utf8'), path);
  const expected = basename(path, extname(path));
  if (profile.name !== expected) {
    throw new ProtocolError(
      'PROFILE_INVALID',
      `${path}: /name: '${profile.name}' does not match the file name '${expected}'`,
    );
  }
  return profile;
}

/** Loads every `*.yaml` / `*.yml` file of a directory (not recursive), by profile name. */
export function loadProfileDir(dir: string): Map<string, DriveProfile> {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && EXTENSIONS.has(extname(e.name)))
    .map((e) => e.name)
    .sort();
  const byName = new Map<string, DriveProfile>();
  for (const file of files) {
    const profile = loadProfileFile(join(dir, file));
    if (byName.has(profile.name)) {
      // sf-servo.yaml and sf-servo.yml
      throw new ProtocolError(
        'PROFILE_INVALID',
        `${join(dir, file)}: profile '${profile.name}' is defined twice`,
      );
    }
    byName.set(profile.name, profile);
  }
  return byName;
}
