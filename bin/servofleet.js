#!/usr/bin/env node
// Entry point of the `servofleet` command. The code is TypeScript. It runs from the
// bundle `servofleet build` (and `servofleet up`) writes to .servofleet/build while no
// source file that went into it has changed since; otherwise straight from the sources
// through tsx's ESM loader, so there is no build step between a clone or an edit and a
// running fleet. SERVOFLEET_NO_BUNDLE=1 always runs the sources.
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const BUILD = join(ROOT, '.servofleet/build');

/**
 * The bundle's entry, if the current build is newer than every file that went in. The
 * same check as services/cli/build.ts `freshBuild` (TypeScript, so not importable
 * here before tsx): change both together.
 */
function freshBundle() {
  if (process.env.SERVOFLEET_NO_BUNDLE) return undefined;
  try {
    const info = JSON.parse(readFileSync(join(BUILD, 'current.json'), 'utf8'));
    for (const f of info.inputs)
      if (statSync(join(ROOT, f)).mtimeMs > info.builtAt) return undefined;
    const entry = join(BUILD, info.dir, 'main.js');
    statSync(entry);
    return entry;
  } catch {
    return undefined;
  }
}

const bundle = freshBundle();
let main;
if (bundle) {
  ({ main } = await import(pathToFileURL(bundle).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../services/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
