import { afterEach, describe, expect, it } from 'vitest';
import { buildControlApi } from '../src/control/control-api.ts';
import { parseScenario, runScenario } from '../src/scenario.ts';
import { manualSim, run } from './harness.ts';

describe('simulator control API', () => {
  const apps: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
  });
  function setup() {
    const { sim, clock } = manualSim();
    const app = buildControlApi(sim);
    apps.push(app);
    return { sim, clock, app };
  }

  it('lists every drive with its true state', async () => {
    const { app } = setup();
    const res = await app.inject({ method: 'GET', url: '/sim/drives' });
    expect(res.statusCode).toBe(200);
    const drives = res.json().drives as { id: string; state: string; link: string }[];
    expect(drives.map((d) => [d.id, d.link, d.state])).toEqual([
      ['axis-1', 'bus-a', 'SWITCH_ON_DISABLED'],
      ['axis-2', 'bus-a', 'SWITCH_ON_DISABLED'],
      ['axis-3', 'bus-a', 'SWITCH_ON_DISABLED'],
      ['axis-4', 'bus-a', 'SWITCH_ON_DISABLED'],
      ['dxl-1', 'bus-b', 'SWITCH_ON_DISABLED'],
      ['dxl-2', 'bus-b', 'SWITCH_ON_DISABLED'],
    ]);
    expect((await app.inject({ method: 'GET', url: '/sim/drives/axis-9' })).json().error.code).toBe(
      'SIM_UNKNOWN_DRIVE',
    );
  });

  it('takes the documented fault bodies as written', async () => {
    const { app, sim } = setup();
    const bodies = [
      { drive: 'axis-2', fault: 'no-response' },
      { drive: 'axis-1', fault: 'delay', ms: 40 },
      { drive: 'axis-3', fault: 'drive-fault', code: '0x4310' },
      { link: 'bus-a', fault: 'corrupt', rate: 0.01 },
    ];
    for (const body of bodies) {
      const res = await app.inject({ method: 'POST', url: '/sim/faults', payload: body });
      expect(res.statusCode, JSON.stringify(res.json())).toBe(201);
    }
    expect(sim.drive('axis-3').read('errorCode')).toBe(0x4310);
    const active = (await app.inject({ method: 'GET', url: '/sim/faults' })).json().faults;
    expect(active.map((f: { fault: { fault: string } }) => f.fault.fault)).toEqual([
      'no-response',
      'delay',
      'corrupt',
    ]);
    const cleared = await app.inject({ method: 'DELETE', url: '/sim/faults?drive=axis-2' });
    expect(cleared.json().cleared).toBe(1);
    expect((await app.inject({ method: 'DELETE', url: '/sim/faults' })).json().cleared).toBe(2);
    // A disconnect needs a TCP or PTY link; these are in-memory.
    const dis = await app.inject({
      method: 'POST',
      url: '/sim/faults',
      payload: { link: 'bus-a', fault: 'disconnect', ms: 3000 },
    });
    expect(dis.statusCode).toBe(409);
    expect(dis.json().error.code).toBe('SIM_UNSUPPORTED_FAULT');
  });

  it('refuses bad bodies with 400, a code and the bad field, and changes nothing', async () => {
    const { app, sim } = setup();
    const cases: [unknown, string][] = [
      [{ drive: 'axis-1', fault: 'melt' }, '/fault'],
      [{ drive: 'axis-1', fault: 'delay' }, '/ms'],
      [{ drive: 'axis-1', fault: 'delay', ms: 'soon' }, '/ms'],
      [{ drive: 'axis-1', fault: 'delay', ms: 5, colour: 'red' }, '/colour'],
      [{ link: 'bus-a', fault: 'corrupt', rate: 2 }, '/rate'],
      [[1, 2], '/'],
    ];
    for (const [payload, path] of cases) {
      const res = await app.inject({
        method: 'POST',
        url: '/sim/faults',
        payload: payload as object,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'SIM_BAD_REQUEST', path });
    }
    const notJson = await app.inject({
      method: 'POST',
      url: '/sim/faults',
      headers: { 'content-type': 'application/json' },
      payload: '{"drive":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe('SIM_BAD_REQUEST');
    const unknown = await app.inject({
      method: 'POST',
      url: '/sim/faults',
      payload: { drive: 'axis-9', fault: 'no-response' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(sim.faults()).toEqual([]);
    const huge = await app.inject({
      method: 'POST',
      url: '/sim/faults',
      payload: { drive: 'x'.repeat(20_000), fault: 'no-response' },
    });
    expect(huge.statusCode).toBe(413);
  });

  it('clears a fault by itself after durationMs on the simulator clock', async () => {
    const { app, sim } = setup();
    await app.inject({
      method: 'POST',
      url: '/sim/faults',
      payload: { drive: 'axis-1', fault: 'no-response', durationMs: 1000 },
    });
    await run(sim, 999, 1);
    expect(sim.faults()).toHaveLength(1);
    await run(sim, 2, 1);
    expect(sim.faults()).toEqual([]);
  });
});

describe('scenarios', () => {
  it('runs a timeline of faults on the simulator clock', async () => {
    const { sim } = manualSim();
    const scenario = parseScenario(`
name: axis-3 jams, bus noise, recovery
steps:
  - at: 100
    inject: { drive: axis-3, fault: load, torque: 800 }
  - at: 200
    inject: { link: bus-a, fault: corrupt, rate: 0.01 }
  - at: 300
    clear: { link: bus-a }
  - at: 400
    clear: all
`);
    const seen: string[] = [];
    const r = runScenario(sim, scenario, (step, err) =>
      seen.push(`${step.at}${err ? ` ${err.message}` : ''}`),
    );
    await run(sim, 150, 10);
    expect(sim.drive('axis-3').disturbance.loadTorque).toBe(800);
    await run(sim, 100, 10);
    expect(sim.links()[0]!.faults.corruptRate).toBe(0.01);
    await run(sim, 200, 10);
    await r.done;
    expect(seen).toEqual(['100', '200', '300', '400']);
    expect(sim.faults()).toEqual([]);
    expect(sim.drive('axis-3').disturbance.loadTorque).toBe(0);
  });

  it('refuses a bad scenario with the path of the bad field', () => {
    expect(() =>
      parseScenario('name: x\nsteps:\n  - at: 5\n    inject: { drive: a, fault: delay }'),
    ).toThrow(/\/steps\/0\/inject\/ms/);
    expect(() => parseScenario('name: x\nsteps:\n  - at: -1\n    clear: all')).toThrow(
      /\/steps\/0\/at/,
    );
    expect(() => parseScenario('steps: [')).toThrow(/not valid YAML/);
  });
});
