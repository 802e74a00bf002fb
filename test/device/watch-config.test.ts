/**
 * `watchHz` in a fleet file, as `servofleet validate` (and so every sub-command) checks
 * it: accepted on a drive whose profile names watch objects, refused with
 * CONFIG_INVALID and the field's path when the profile has none or names a bad object.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../services/cli/main.ts';

const PROFILES = resolve(import.meta.dirname, '../../config/profiles');
let dir: string;

function fleet(profile: string, watchHz: number | string): string {
  return `
profilesDir: profiles
broker: { url: mqtt://127.0.0.1:1883, embedded: false }
links:
  - id: bus-a
    protocol: modbus-rtu
    transport: tcp://127.0.0.1:4001
    drives:
      - { id: axis-1, unit: 1, profile: sf-servo, pollHz: 20 }
      - { id: axis-2, unit: 2, profile: ${profile}, pollHz: 20, watchHz: ${watchHz} }
`;
}

async function validate(yaml: string): Promise<{ code: number; err: string }> {
  const path = join(dir, 'fleet.yaml');
  writeFileSync(path, yaml);
  const err: string[] = [];
  const io = { out: () => undefined, err: (l: string) => err.push(l), env: {}, cwd: dir };
  const code = await main(['validate', '--config', path], io);
  return { code, err: err.join('\n') };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'servofleet-watch-'));
  mkdirSync(join(dir, 'profiles'));
  copyFileSync(join(PROFILES, 'sf-servo.yaml'), join(dir, 'profiles', 'sf-servo.yaml'));
  // The same drive model without a watch list.
  const plain = readFileSync(join(PROFILES, 'sf-servo.yaml'), 'utf8')
    .replace(/^name: sf-servo$/m, 'name: plain-servo')
    .replace(/^watch: .*$/m, '');
  writeFileSync(join(dir, 'profiles', 'plain-servo.yaml'), plain);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('watchHz in the fleet file', () => {
  it('is accepted for a profile with watch objects', async () => {
    expect(await validate(fleet('sf-servo', 200))).toEqual({ code: 0, err: '' });
  });

  it('is refused, with its path, for a profile without watch objects', async () => {
    const r = await validate(fleet('plain-servo', 200));
    expect(r.code).toBe(1);
    expect(r.err).toContain('CONFIG_INVALID');
    expect(r.err).toContain('/links/0/drives/1/watchHz: profile plain-servo has no watch objects');
  });

  it('must be a number above 0 and at most 1000', async () => {
    for (const bad of [0, 5000, '"fast"']) {
      const r = await validate(fleet('sf-servo', bad));
      expect(r.code).toBe(1);
      expect(r.err).toContain('CONFIG_INVALID');
      expect(r.err).toContain('/links/0/drives/1/watchHz');
    }
  });

  it('a profile whose watch names an object it does not poll is refused', async () => {
    const bad = readFileSync(join(PROFILES, 'sf-servo.yaml'), 'utf8')
      .replace(/^name: sf-servo$/m, 'name: odd-servo')
      .replace(/^watch: .*$/m, 'watch: [controlword]');
    writeFileSync(join(dir, 'profiles', 'odd-servo.yaml'), bad);
    const r = await validate(fleet('sf-servo', 200));
    rmSync(join(dir, 'profiles', 'odd-servo.yaml'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('/watch/0: controlword is not polled');
  });
});
