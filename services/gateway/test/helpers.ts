/**
 * The gateway under test: `buildApp` over the in-memory broker, a fake device service
 * for three drives, and three API keys, one per role. Everything in memory; tests use
 * `app.inject()`.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { type Clock, createMetrics, parseFleet } from '../../runtime/src/index.ts';
import { buildApp, type GatewayDeps } from '../src/app.ts';
import { sha256Hex } from '../src/auth/api-keys.ts';
import type { GatewayOptions } from '../src/options.ts';
import { FakeDevice } from './fake-device.ts';
import { FakeBroker, type FakeClient } from './fake-mqtt.ts';

export const KEYS = {
  viewer: 'test-viewer-key-0123456789',
  operator: 'test-operator-key-0123456789',
  admin: 'test-admin-key-0123456789',
} as const;

export const silent = pino({ level: 'silent' });

export function fleetYaml(extraKeys = ''): string {
  return `
root: servofleet
links:
  - id: bus-a
    protocol: modbus-rtu
    transport: memory://bus-a
    drives:
      - { id: axis-1, unit: 1, profile: sf-servo }
      - { id: axis-2, unit: 2, profile: sf-servo }
      - { id: axis-3, unit: 3, profile: sf-servo }
lines:
  - id: line-1
    stations: [{ id: s1, drives: [axis-1, axis-2] }, { id: s2, drives: [axis-3] }]
gateway:
  apiKeys:
    - { name: viewer-1, role: viewer, sha256: ${sha256Hex(KEYS.viewer)} }
    - { name: operator-1, role: operator, sha256: ${sha256Hex(KEYS.operator)} }
    - { name: admin-1, role: admin, sha256: ${sha256Hex(KEYS.admin)} }
${extraKeys}`;
}

export interface TestGateway {
  app: FastifyInstance;
  broker: FakeBroker;
  device: FakeDevice;
  gatewayMqtt: FakeClient;
  auth(role: keyof typeof KEYS): { authorization: string };
  close(): Promise<void>;
}

export async function testGateway(
  o: {
    protocol?: 4 | 5;
    options?: Partial<GatewayOptions>;
    clock?: Clock;
    start?: boolean;
    deps?: Partial<GatewayDeps>;
  } = {},
): Promise<TestGateway> {
  const broker = new FakeBroker(o.protocol ?? 5);
  const device = new FakeDevice(broker, ['axis-1', 'axis-2', 'axis-3']);
  if (o.start !== false) await device.start();
  const gatewayMqtt = broker.client('gateway');
  const app = buildApp({
    fleet: parseFleet(fleetYaml()),
    mqtt: gatewayMqtt,
    log: silent,
    metrics: createMetrics({ service: 'gateway', defaultMetrics: false }),
    instanceId: 'test',
    options: { warmupMs: 0, ...o.options },
    ...(o.clock ? { clock: o.clock } : {}),
    ...o.deps,
  });
  await app.ready();
  // Let the retained messages arrive.
  await flush();
  return {
    app,
    broker,
    device,
    gatewayMqtt,
    auth: (role) => ({ authorization: `Bearer ${KEYS[role]}` }),
    close: () => app.close(),
  };
}

/** Let queued microtasks and immediate callbacks run (in-memory delivery). */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
