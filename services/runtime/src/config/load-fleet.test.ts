import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../errors.ts';
import { loadFleetFile, parseFleet, resolveFleetPath } from './load-fleet.ts';

const DEMO = resolve(import.meta.dirname, '../../../../config/demo-fleet.yaml');

const MINIMAL = `
links:
  - id: bus-a
    protocol: modbus-rtu
    transport: tcp://127.0.0.1:4001
    drives:
      - { id: axis-1, unit: 1, profile: sf-servo }
`;

function issuesOf(fn: () => unknown): { code: string; paths: string[]; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof RuntimeError) {
      return { code: err.code, paths: err.issues.map((i) => i.path), message: err.message };
    }
    throw err;
  }
  throw new Error('expected a RuntimeError');
}

describe('fleet file', () => {
  it('loads the demo fleet: two links, six drives, one line', () => {
    const { fleet, profilesDir } = loadFleetFile(DEMO);
    expect(fleet.links.map((l) => [l.id, l.protocol, l.baud])).toEqual([
      ['bus-a', 'modbus-rtu', 115200],
      ['bus-b', 'dynamixel2', 1000000],
    ]);
    expect(fleet.links.flatMap((l) => l.drives.map((d) => d.id))).toEqual([
      'axis-1',
      'axis-2',
      'axis-3',
      'axis-4',
      'dxl-1',
      'dxl-2',
    ]);
    expect(fleet.lines.map((l) => l.id)).toEqual(['line-1']);
    expect(profilesDir).toBe(resolve(DEMO, '../profiles'));
  });

  it('applies defaults and freezes the result', () => {
    const fleet = parseFleet(MINIMAL);
    expect(fleet.root).toBe('servofleet');
    expect(fleet.broker).toEqual({ url: 'mqtt://127.0.0.1:1883', embedded: true });
    expect(fleet.links[0]!.baud).toBe(115200);
    expect(fleet.links[0]!.drives[0]!.pollHz).toBe(20);
    expect(fleet.gateway.port).toBe(8080);
    expect(fleet.journal).toEqual({
      host: '127.0.0.1',
      port: 8090,
      path: '.servofleet/journal.db',
      retention: { days: 30, maxRows: 5_000_000 },
    });
    expect(Object.isFrozen(fleet.links[0]!.drives[0])).toBe(true);
  });

  it('refuses a misspelled key with its path', () => {
    const bad = MINIMAL.replace('protocol: modbus-rtu', 'protocol: modbus-rtu\n    baudrate: 9600');
    const r = issuesOf(() => parseFleet(bad, 'x.yaml'));
    expect(r.code).toBe('CONFIG_INVALID');
    expect(r.paths).toEqual(['/links/0/baudrate']);
    expect(r.message).toContain('x.yaml is invalid');
  });

  it('refuses wrong types, duplicate ids and unit clashes with paths', () => {
    const bad = `
links:
  - id: bus-a
    protocol: modbus-rtu
    transport: tcp://127.0.0.1:4001
    drives:
      - { id: axis-1, unit: 1, profile: sf-servo }
      - { id: axis-1, unit: 1, profile: sf-servo }
      - { id: axis-3, unit: 0, profile: sf-servo, limits: { position: [5, 1] } }
lines:
  - { id: l, stations: [{ id: s, drives: [nope] }] }
`;
    const r = issuesOf(() => parseFleet(bad));
    expect(r.paths).toEqual([
      '/links/0/drives/1/id',
      '/links/0/drives/1/unit',
      '/links/0/drives/2/unit',
      '/links/0/drives/2/limits/position',
      '/lines/0/stations/0/drives/0',
    ]);
    const t = issuesOf(() => parseFleet(MINIMAL.replace('unit: 1', 'unit: "one"')));
    expect(t.paths).toEqual(['/links/0/drives/0/unit']);
  });

  it('refuses bad YAML and a missing file with their codes', () => {
    expect(issuesOf(() => parseFleet('links: [')).code).toBe('CONFIG_PARSE');
    expect(issuesOf(() => loadFleetFile('/nonexistent/fleet.yaml')).code).toBe('CONFIG_NOT_FOUND');
  });

  it('refuses a drive whose profile file does not exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-fleet-'));
    writeFileSync(
      join(dir, 'fleet.yaml'),
      `profilesDir: ${resolve(DEMO, '../profiles')}\n${MINIMAL.replace('sf-servo', 'nosuch')}`,
    );
    const r = issuesOf(() => loadFleetFile(join(dir, 'fleet.yaml')));
    expect(r.code).toBe('CONFIG_INVALID');
    expect(r.paths).toEqual(['/links/0/drives/0/profile']);
  });

  it('applies environment overrides and refuses bad ones', () => {
    const fleet = parseFleet(MINIMAL, 'f', {
      SERVOFLEET_MQTT_URL: 'mqtt://127.0.0.1:1999',
      SERVOFLEET_HTTP_PORT: '9000',
    });
    expect(fleet.broker.url).toBe('mqtt://127.0.0.1:1999');
    expect(fleet.gateway.port).toBe(9000);
    expect(issuesOf(() => parseFleet(MINIMAL, 'f', { SERVOFLEET_HTTP_PORT: 'http' })).code).toBe(
      'CONFIG_ENV_INVALID',
    );
  });

  it('gateway.journals: checked http(s) base URLs, trailing slashes dropped; absent by default', () => {
    expect(parseFleet(MINIMAL).gateway.journals).toBeUndefined();
    const two = parseFleet(
      `${MINIMAL}gateway:\n  journals: [http://journal-a:8090/, "https://J-B.example:8443/api/journal"]\n`,
    );
    expect(two.gateway.journals).toEqual([
      'http://journal-a:8090',
      'https://j-b.example:8443/api/journal',
    ]);
    const bad = issuesOf(() =>
      parseFleet(
        `${MINIMAL}gateway:\n  journals: [http://a:8090, "http://", "http://u:p@b:8090", "http://c:8090/?x=1", "http://a:8090/"]\n`,
      ),
    );
    expect(bad.code).toBe('CONFIG_INVALID');
    expect(bad.paths).toEqual([
      '/gateway/journals/1',
      '/gateway/journals/2',
      '/gateway/journals/3',
      '/gateway/journals/4',
    ]);
    expect(bad.message).toContain('credentials');
    expect(bad.message).toContain('query or fragment');
    expect(bad.message).toContain('listed twice');
    for (const journals of ['[]', '[ftp://a:21]', '[journal-a:8090]']) {
      const r = issuesOf(() => parseFleet(`${MINIMAL}gateway:\n  journals: ${journals}\n`));
      expect(r.code, journals).toBe('CONFIG_INVALID');
      expect(r.paths[0], journals).toMatch(/^\/gateway\/journals/);
    }
  });

  it('SERVOFLEET_JOURNAL_URLS replaces gateway.journals; a bad entry is CONFIG_ENV_INVALID naming it', () => {
    const file = `${MINIMAL}gateway:\n  journals: [http://from-file:8090]\n`;
    const fleet = parseFleet(file, 'f', {
      SERVOFLEET_JOURNAL_URLS: 'http://journal-a:8090, https://journal-b:8443/',
    });
    expect(fleet.gateway.journals).toEqual(['http://journal-a:8090', 'https://journal-b:8443']);
    expect(
      parseFleet(MINIMAL, 'f', { SERVOFLEET_JOURNAL_URLS: 'http://j:1' }).gateway.journals,
    ).toEqual(['http://j:1']);
    // Empty: not set.
    expect(parseFleet(file, 'f', { SERVOFLEET_JOURNAL_URLS: '' }).gateway.journals).toEqual([
      'http://from-file:8090',
    ]);
    const cases: [string, string][] = [
      [
        'http://a:8090,journal-b:8090',
        'entry 2: "journal-b:8090" is not an http:// or https:// URL',
      ],
      ['http://a:8090,', 'entry 2: not a URL: ""'],
      ['mqtt://a:1883', 'entry 1: "mqtt://a:1883" is not an http:// or https:// URL'],
      ['http://a:8090,http://A:8090/', 'entry 2: http://a:8090 is listed twice (also entry 1)'],
    ];
    for (const [value, says] of cases) {
      const r = issuesOf(() => parseFleet(MINIMAL, 'f', { SERVOFLEET_JOURNAL_URLS: value }));
      expect(r.code, value).toBe('CONFIG_ENV_INVALID');
      expect(r.message, value).toContain('SERVOFLEET_JOURNAL_URLS');
      expect(r.message, value).toContain(says);
    }
  });

  it('journal.instance and SERVOFLEET_JOURNAL_INSTANCE: safe for a client id and a topic level', () => {
    expect(parseFleet(MINIMAL).journal.instance).toBeUndefined();
    const withFile = `${MINIMAL}journal:\n  instance: replica_1\n`;
    expect(parseFleet(withFile).journal.instance).toBe('replica_1');
    expect(parseFleet(withFile, 'f', { SERVOFLEET_JOURNAL_INSTANCE: 'b-2' }).journal.instance).toBe(
      'b-2',
    );
    for (const bad of ['a/b', 'a+', '#', 'x y', 'sixteen-chars-xx', '""']) {
      const r = issuesOf(() => parseFleet(`${MINIMAL}journal:\n  instance: ${bad}\n`));
      expect(r.code, bad).toBe('CONFIG_INVALID');
      expect(r.paths, bad).toEqual(['/journal/instance']);
    }
    for (const bad of ['a/b', 'a+', 'sixteen-chars-xx', 'é']) {
      const r = issuesOf(() => parseFleet(MINIMAL, 'f', { SERVOFLEET_JOURNAL_INSTANCE: bad }));
      expect(r.code, bad).toBe('CONFIG_ENV_INVALID');
      expect(r.message, bad).toContain(`SERVOFLEET_JOURNAL_INSTANCE must be 1–15 letters`);
    }
  });

  it('finds the file from --config, then SERVOFLEET_CONFIG, then the demo fleet', () => {
    expect(resolveFleetPath('a.yaml', { SERVOFLEET_CONFIG: 'b.yaml' }, '/w')).toBe('/w/a.yaml');
    expect(resolveFleetPath(undefined, { SERVOFLEET_CONFIG: '/b.yaml' }, '/w')).toBe('/b.yaml');
    expect(resolveFleetPath(undefined, {}, '/w')).toBe('/w/config/demo-fleet.yaml');
  });
});
