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

  it('finds the file from --config, then SERVOFLEET_CONFIG, then the demo fleet', () => {
    expect(resolveFleetPath('a.yaml', { SERVOFLEET_CONFIG: 'b.yaml' }, '/w')).toBe('/w/a.yaml');
    expect(resolveFleetPath(undefined, { SERVOFLEET_CONFIG: '/b.yaml' }, '/w')).toBe('/b.yaml');
    expect(resolveFleetPath(undefined, {}, '/w')).toBe('/w/config/demo-fleet.yaml');
  });
});
