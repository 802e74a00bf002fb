import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProfileDir, loadProfileFile } from './load-file.ts';

const PROFILES = resolve(import.meta.dirname, '../../../config/profiles');
const code = (c: string) => expect.objectContaining({ code: c });
const TINY = (name: string) =>
  `name: ${name}\nprotocol: modbus-rtu\nobjects:\n  statusword: { address: 1, type: u16, access: r }\n`;

describe('loadProfileDir: config/profiles', () => {
  it('loads the three shipped profiles by name', () => {
    const byName = loadProfileDir(PROFILES);
    expect([...byName.keys()]).toEqual(['kinco-fd', 'sf-servo', 'xm430']);
    expect(byName.get('xm430')!.protocol).toBe('dynamixel2');
  });
});

describe('load-file with a scratch directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-profiles-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads .yaml and .yml, ignores other files and directories', () => {
    writeFileSync(join(dir, 'a.yaml'), TINY('a'));
    writeFileSync(join(dir, 'b.yml'), TINY('b'));
    writeFileSync(join(dir, 'README.md'), '# not a profile');
    mkdirSync(join(dir, 'sub.yaml'));
    expect([...loadProfileDir(dir).keys()]).toEqual(['a', 'b']);
  });

  it('a name that does not match the file name is PROFILE_INVALID', () => {
    copyFileSync(join(PROFILES, 'sf-servo.yaml'), join(dir, 'my-servo.yaml'));
    expect(() => loadProfileFile(join(dir, 'my-servo.yaml'))).toThrow(
      expect.objectContaining({
        code: 'PROFILE_INVALID',
        message: expect.stringContaining(
          "/name: 'sf-servo' does not match the file name 'my-servo'",
        ),
      }),
    );
  });

  it('the same profile twice is PROFILE_INVALID', () => {
    writeFileSync(join(dir, 'a.yaml'), TINY('a'));
    writeFileSync(join(dir, 'a.yml'), TINY('a'));
    expect(() => loadProfileDir(dir)).toThrow(code('PROFILE_INVALID'));
  });

  it('a bad file names the file in the message', () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      'name: bad\nprotocol: modbus-rtu\nobjects: { a: { adress: 1 } }\n',
    );
    expect(() => loadProfileDir(dir)).toThrow(
      `${join(dir, 'bad.yaml')}: /objects/a/adress: unknown key`,
    );
  });

  it('file-system errors pass through', () => {
    expect(() => loadProfileFile(join(dir, 'missing.yaml'))).toThrow(code('ENOENT'));
  });
});
