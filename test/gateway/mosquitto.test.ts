/**
 * The gateway on Mosquitto 2, which speaks MQTT 5: commands carry a response topic and
 * correlation data instead of `replyTo`, and the round trip works end to end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Watcher } from '../device/harness.ts';
import { eventually, type GatewayRig, startGatewayRig } from './harness.ts';

describe('gateway on Mosquitto (MQTT 5)', { timeout: 45_000 }, () => {
  let r: GatewayRig;
  let w5: Watcher;
  beforeAll(async () => {
    r = await startGatewayRig('mosquitto');
    w5 = await Watcher.connect(r.rig.broker.url, ['servofleet/drives/+/commands'], 5);
    await r.allOnline();
  }, 60_000);
  afterAll(async () => {
    await w5?.close();
    await r?.close();
  }, 30_000);

  it('negotiates MQTT 5 and sends commands with response topic and correlation data', async () => {
    const ready = await r.http('GET', '/readyz');
    expect(ready.json.details).toMatchObject({ mqtt: 'connected (MQTT 5)' });
    const en = await r.command('axis-2', { type: 'enable', commandId: 'm5-en' });
    expect(en.status, JSON.stringify(en.json)).toBe(200);
    await r.enable('axis-2');
    expect(r.rig.sim.drive('axis-2').state).toBe('OPERATION_ENABLED');
    const sent = await w5.next(
      (m) => m.topic === 'servofleet/drives/axis-2/commands' && m.json.commandId === 'm5-en',
      'the command as published',
    );
    expect(sent.json).not.toHaveProperty('replyTo');
    expect(sent.properties).toMatchObject({
      responseTopic: expect.stringMatching(/^servofleet\/gateway\/.+\/replies$/),
      correlationData: Buffer.from('m5-en'),
    });
    const mv = await r.command('axis-2', { type: 'moveTo', position: -3000, velocity: 40000 });
    expect(mv.status).toBe(200);
    expect(Math.abs(r.rig.sim.drive('axis-2').positionActual() + 3000)).toBeLessThanOrEqual(10);
  });

  it('a fault on one drive: 409 on it, 200 on its neighbour', async () => {
    r.rig.sim.inject({ drive: 'axis-1', fault: 'drive-fault', code: 0x2310 });
    await eventually(
      async () =>
        ((await r.http('GET', '/api/v1/drives/axis-1')).json.state as { cia402: string }).cia402 ===
        'FAULT',
      'axis-1 FAULT',
      8000,
      25,
    );
    const f = await r.command('axis-1', { type: 'moveTo', position: 1 });
    expect([f.status, (f.json.error as { code: string }).code]).toEqual([409, 'DRIVE_FAULT']);
    const en = await r.command('axis-3', { type: 'enable' });
    expect(en.status, JSON.stringify(en.json)).toBe(200);
  });
});
