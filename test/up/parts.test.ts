/**
 * What `servofleet up` runs for a fleet file, and where the embedded broker may listen.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { brokerListenAddress } from '../../services/cli/broker.ts';
import { fleetParts } from '../../services/cli/up.ts';
import { parseFleet, RuntimeError } from '../../services/runtime/src/index.ts';

const root = resolve(import.meta.dirname, '../..');
const demoText = readFileSync(resolve(root, 'config/demo-fleet.yaml'), 'utf8');
const ctx = {
  configPath: '/etc/fleet.yaml',
  env: { LOG_LEVEL: 'debug' },
  cwd: '/srv',
  node: '/usr/bin/node',
};

function variant(edit: (raw: Record<string, unknown>) => void) {
  const raw = parseYaml(demoText) as Record<string, unknown>;
  edit(raw);
  return parseFleet(stringify(raw));
}

describe('fleetParts', () => {
  it('runs the broker, the simulator, a device service per link, the gateway, a line controller per line and the journal for the demo fleet', () => {
    const parts = fleetParts(parseFleet(demoText), ctx);
    const cli = resolve(root, 'bin/servofleet.js');
    const flags = ['--max-semi-space-size=4', '--interrupt-budget=8448'];
    expect(parts.map((p) => [p.name, p.tier, p.command, ...p.args])).toEqual([
      ['broker', 0, '/usr/bin/node', ...flags, cli, 'broker', '--config', '/etc/fleet.yaml'],
      ['sim', 1, '/usr/bin/node', ...flags, cli, 'sim', '--config', '/etc/fleet.yaml'],
      [
        'device bus-a',
        2,
        '/usr/bin/node',
        ...flags,
        cli,
        'device',
        '--link',
        'bus-a',
        '--config',
        '/etc/fleet.yaml',
      ],
      [
        'device bus-b',
        2,
        '/usr/bin/node',
        ...flags,
        cli,
        'device',
        '--link',
        'bus-b',
        '--config',
        '/etc/fleet.yaml',
      ],
      ['gateway', 3, '/usr/bin/node', ...flags, cli, 'gateway', '--config', '/etc/fleet.yaml'],
      [
        'line line-1',
        3,
        '/usr/bin/node',
        ...flags,
        cli,
        'line',
        '--line',
        'line-1',
        '--config',
        '/etc/fleet.yaml',
      ],
      ['journal', 1, '/usr/bin/node', ...flags, cli, 'journal', '--config', '/etc/fleet.yaml'],
    ]);
    // Environment passes through, and every part loads the same fleet file.
    expect(parts[0]!.env).toEqual({ LOG_LEVEL: 'debug', SERVOFLEET_CONFIG: '/etc/fleet.yaml' });
    expect(parts.every((p) => p.cwd === '/srv')).toBe(true);
  });

  it('leaves out the broker when it is external, and the simulator when there is none', () => {
    const fleet = variant((raw) => {
      (raw.broker as Record<string, unknown>).embedded = false;
      delete raw.simulator;
    });
    expect(fleetParts(fleet, ctx).map((p) => p.name)).toEqual([
      'device bus-a',
      'device bus-b',
      'gateway',
      'line line-1',
      'journal',
    ]);
  });
});

describe('brokerListenAddress', () => {
  it('listens on the URL host when it is loopback, port 1883 by default', () => {
    expect(brokerListenAddress('mqtt://127.0.0.1:1884')).toEqual({ host: '127.0.0.1', port: 1884 });
    expect(brokerListenAddress('tcp://localhost')).toEqual({ host: 'localhost', port: 1883 });
    expect(brokerListenAddress('mqtt://[::1]:1999')).toEqual({ host: '::1', port: 1999 });
  });

  it('refuses a non-loopback host unless one is given explicitly', () => {
    const err = (() => {
      try {
        brokerListenAddress('mqtt://broker.plant1:1883');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).code).toBe('BROKER_HOST_NOT_LOOPBACK');
    expect(brokerListenAddress('mqtt://broker.plant1:1883', '0.0.0.0')).toEqual({
      host: '0.0.0.0',
      port: 1883,
    });
  });

  it('refuses URLs the embedded broker cannot serve', () => {
    expect(() => brokerListenAddress('mqtts://127.0.0.1:8883')).toThrow(/plain MQTT/);
    expect(() => brokerListenAddress('ws://127.0.0.1:8080')).toThrow(/plain MQTT/);
  });
});
