/**
 * The bundle (`servofleet build`, made by `servofleet up`): services start from it,
 * without tsx, while no source that went into it changed; after an edit they run from
 * the sources again. Checked on a scratch checkout of two files, and on this one.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_DIR, buildBundle, freshBuild } from '../../services/cli/build.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/** A checkout with bin/servofleet.js and a main.ts that says where it runs from. */
function scratchCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'servofleet-build-'));
  scratch.push(dir);
  writeFileSync(join(dir, 'package.json'), '{"name":"scratch","type":"module"}');
  mkdirSync(join(dir, 'bin'));
  cpSync(join(ROOT, 'bin/servofleet.js'), join(dir, 'bin/servofleet.js'));
  // tsx resolves from the scratch checkout through this link to the real node_modules.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'services/cli'), { recursive: true });
  writeFileSync(join(dir, 'services/cli/greeting.ts'), "export const greeting: string = 'v1';\n");
  writeFileSync(
    join(dir, 'services/cli/main.ts'),
    [
      "import { greeting } from './greeting.ts';",
      'export async function main(): Promise<number> {',
      '  const from = import.meta.url.includes(".servofleet/build") ? "bundle" : "sources";',
      '  process.stdout.write(greeting + " " + from + "\\n");',
      '  return 0;',
      '}',
      '',
    ].join('\n'),
  );
  return dir;
}

async function say(dir: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await run(process.execPath, [join(dir, 'bin/servofleet.js')], {
    env: { ...process.env, ...env },
  });
  return r.stdout.trim();
}

describe('servofleet build', () => {
  it('runs the bundle while it is fresh, the sources after an edit, and the new bundle after a rebuild', async () => {
    const dir = scratchCheckout();
    expect(await say(dir)).toBe('v1 sources'); // no build yet

    const b = await buildBundle(dir);
    expect(b.inputs.sort()).toEqual(['services/cli/greeting.ts', 'services/cli/main.ts']);
    expect(freshBuild(dir)?.dir).toBe(b.dir);
    expect(await say(dir)).toBe('v1 bundle');
    expect(await say(dir, { SERVOFLEET_NO_BUNDLE: '1' })).toBe('v1 sources');

    // An edit to any file that went in: stale, so the sources run (never stale code).
    writeFileSync(join(dir, 'services/cli/greeting.ts'), "export const greeting: string = 'v2';\n");
    const later = new Date(b.builtAt + 5000);
    utimesSync(join(dir, 'services/cli/greeting.ts'), later, later);
    expect(freshBuild(dir)).toBeUndefined();
    expect(await say(dir)).toBe('v2 sources');

    const b2 = await buildBundle(dir);
    expect(b2.dir).not.toBe(b.dir);
    const current = JSON.parse(readFileSync(join(dir, BUILD_DIR, 'current.json'), 'utf8'));
    expect(current.dir).toBe(b2.dir);
  }, 60_000);

  it('a source file that went in and is gone makes the build stale', async () => {
    const dir = scratchCheckout();
    await buildBundle(dir);
    rmSync(join(dir, 'services/cli/greeting.ts'));
    expect(freshBuild(dir)).toBeUndefined();
  }, 60_000);

  it('this checkout bundles, and the bundled command answers', async () => {
    const b = await buildBundle(ROOT);
    expect(b.inputs).toContain('services/gateway/src/app.ts');
    expect(b.inputs.every((f) => !f.startsWith('node_modules/'))).toBe(true);
    const r = await run(process.execPath, [join(ROOT, 'bin/servofleet.js'), '--help']);
    expect(r.stdout).toContain('usage: servofleet <command>');
  }, 60_000);
});
