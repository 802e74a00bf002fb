/**
 * The servofleet checkout a module runs from: the nearest folder above `from` with a
 * package.json. Files the services read at run time (the dashboard's pages, the CLI
 * entry point) are found from it, not from the module's own folder, so the same code
 * works from its source file and from the bundle `servofleet build` writes
 * (.servofleet/build/, where every module's folder is the bundle's).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function packageRoot(from: string): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
}
