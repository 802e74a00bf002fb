/**
 * `servofleet build`: the whole command bundled with esbuild into .servofleet/build/,
 * so that services start as plain JavaScript instead of through tsx. tsx's ESM loader
 * runs its hooks on a thread of their own, a second V8 isolate: about 55 MB of RSS in
 * every process (a device process: 139 MB through tsx, 84 MB from the bundle; measured
 * with process.memoryUsage() after loading the device service). The fleet runs one
 * process per link, so on a large fleet that is most of its memory.
 *
 * - Sub-commands stay separate chunks (esbuild code splitting), so a process loads only
 *   its own service. npm packages are not bundled; they load from node_modules.
 * - Each build goes to a folder of its own, then `current.json` is replaced atomically
 *   to point at it: processes starting meanwhile, or two builds at once, never see a
 *   half-written bundle. Older builds are removed.
 * - `current.json` lists the source files that went in and when the build started;
 *   bin/servofleet.js runs the bundle only while none of them is newer, and otherwise
 *   runs the sources through tsx, so an edit never runs stale code.
 * - `servofleet up` builds first when the bundle is missing or stale (well under a
 *   second); a failed build is a warning, not a failure: the sources still run.
 */
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { packageRoot } from '../runtime/src/index.ts';
import type { CommandIo } from './main.ts';

export const BUILD_DIR = '.servofleet/build';
const KEEP = 3;

export interface BuildInfo {
  /** The build's folder under BUILD_DIR. */
  dir: string;
  /** Date.now() when the build started. */
  builtAt: number;
  /** Source files that went in, relative to the checkout. */
  inputs: string[];
}

export function repoRoot(): string {
  return packageRoot(import.meta.dirname);
}

/**
 * The current build, if there is one and no source file is newer than it. The same
 * check runs, in plain JavaScript, in bin/servofleet.js (before any TypeScript can load):
 * change both together.
 */
export function freshBuild(root = repoRoot()): BuildInfo | undefined {
  try {
    const info = JSON.parse(
      readFileSync(join(root, BUILD_DIR, 'current.json'), 'utf8'),
    ) as BuildInfo;
    for (const f of info.inputs)
      if (statSync(join(root, f)).mtimeMs > info.builtAt) return undefined;
    statSync(join(root, BUILD_DIR, info.dir, 'main.js'));
    return info;
  } catch {
    return undefined;
  }
}

/** Bundles services/cli/main.ts into a new folder and makes it current. */
export async function buildBundle(root = repoRoot()): Promise<BuildInfo & { ms: number }> {
  const t0 = performance.now();
  const builtAt = Date.now();
  const dir = `b${builtAt.toString(36)}-${process.pid}`;
  const base = join(root, BUILD_DIR);
  const outdir = join(base, dir);
  mkdirSync(outdir, { recursive: true });
  try {
    const r = await build({
      absWorkingDir: root,
      entryPoints: { main: 'services/cli/main.ts' },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      outdir,
      metafile: true,
      sourcemap: 'linked',
      logLevel: 'silent',
    });
    const info: BuildInfo = { dir, builtAt, inputs: Object.keys(r.metafile.inputs) };
    const tmp = join(base, `current.${dir}.json`);
    writeFileSync(tmp, JSON.stringify(info));
    renameSync(tmp, join(base, 'current.json'));
    // Older builds go; the newest few stay for processes that are starting from them.
    const old = readdirSync(base)
      .filter((n) => n.startsWith('b') && n !== dir)
      .map((n) => ({ n, t: statSync(join(base, n)).mtimeMs }))
      .sort((a, b) => b.t - a.t)
      .slice(KEEP - 1);
    for (const o of old) rmSync(join(base, o.n), { recursive: true, force: true });
    return { ...info, ms: performance.now() - t0 };
  } catch (err) {
    rmSync(outdir, { recursive: true, force: true });
    throw err;
  }
}

/** A fresh build, made now if there is none; undefined (and a warning) if it fails. */
export async function ensureBuild(
  warn: (line: string) => void,
  root = repoRoot(),
): Promise<BuildInfo | undefined> {
  const fresh = freshBuild(root);
  if (fresh) return fresh;
  try {
    return await buildBundle(root);
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    warn(`could not bundle (${msg}); the services run from their TypeScript sources`);
    return undefined;
  }
}

export async function buildCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { help: { type: 'boolean' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    io.out(
      `usage: servofleet build\nbundle the command into ${BUILD_DIR}: services then start as plain JavaScript (servofleet up does this by itself)`,
    );
    return 0;
  }
  const root = repoRoot();
  const b = await buildBundle(root);
  io.out(
    `built ${join(BUILD_DIR, b.dir)} from ${b.inputs.length} source files in ${Math.round(b.ms)} ms`,
  );
  return 0;
}
