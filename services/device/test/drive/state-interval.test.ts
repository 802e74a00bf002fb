/**
 * When a poll becomes a state message: a drive on the move publishes its retained
 * state once per `stateIntervalMs` (telemetry carries every poll), a change of what a
 * controller acts on (CiA 402 state, mode, target reached, fault) or a step of the
 * voltage or temperature beyond its deadband goes at once, the
 * first change after a quiet spell goes at once, and the view where the drive came to
 * rest is published at the first poll after the interval. Stub sessions, manual clock.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE_INTERVAL_MS } from '../../src/drive/drive-service.ts';
import { stubDrive } from './stub-session.ts';

function drive(stateIntervalMs?: number) {
  const { svc, own, data, clock } = stubDrive({
    dataConnected: true,
    ...(stateIntervalMs !== undefined ? { stateIntervalMs } : {}),
  });
  /** One poll 50 ms after the last (20 Hz): the positions of the state messages it sent. */
  const poll = (values: Record<string, number>) => {
    clock.advance(50);
    const n = data.sent.length;
    svc.onPoll(
      { torqueEnable: 1, hardwareErrorStatus: 0, moving: 1, presentInputVoltage: 48, ...values },
      clock.wallNow(),
    );
    const out = data.sent.slice(n);
    expect(out.filter((m) => m.topic === 'sf/drives/d1/telemetry')).toHaveLength(1);
    return out.filter((m) => m.topic === 'sf/drives/d1/state').map((m) => m.body.position);
  };
  return { svc, own, data, clock, poll };
}

describe('state messages of a drive on the move', () => {
  it('go out once per interval, the first at once, and the resting view after it', () => {
    const { poll } = drive();
    expect(DEFAULT_STATE_INTERVAL_MS).toBe(200);
    const states: unknown[][] = [];
    // 0.65 s on the move at 20 Hz: 13 polls, the position changing at each.
    for (let i = 1; i <= 13; i++) states.push(poll({ presentPosition: 100 * i }));
    // The first poll, then every fourth (200 ms later).
    expect(states.flat()).toEqual([100, 500, 900, 1300]);
    // It stops at 1350: nothing else changes after (moving stays 1, goal unknown). The
    // resting view goes out at the first poll 200 ms after the last state, and no more.
    const rest = [1, 2, 3, 4, 5, 6].map(() => poll({ presentPosition: 1350 }));
    expect(rest).toEqual([[], [], [], [1350], [], []]);
  });

  it('go out at once when the CiA 402 state, target reached or the fault changes', () => {
    const { poll } = drive();
    expect(poll({ presentPosition: 100 })).toEqual([100]);
    expect(poll({ presentPosition: 200 })).toEqual([]);
    // At the goal: Moving = 0 and within the window, target reached.
    expect(poll({ presentPosition: 300, goalPosition: 300, moving: 0 })).toEqual([300]);
    // Torque off: SWITCH_ON_DISABLED.
    expect(poll({ presentPosition: 300, goalPosition: 300, moving: 0, torqueEnable: 0 })).toEqual([
      300,
    ]);
    // The bus voltage (48 V so far): 0.5 V more waits for the interval, 1 V goes at once.
    const at = { presentPosition: 300, goalPosition: 300, moving: 0 };
    expect(poll({ ...at, torqueEnable: 0, presentInputVoltage: 48.5 })).toEqual([]);
    expect(poll({ ...at, torqueEnable: 0, presentInputVoltage: 49 })).toEqual([300]);
    // So does a 2 °C rise.
    expect(
      poll({ ...at, torqueEnable: 0, presentInputVoltage: 49, presentTemperature: 2 }),
    ).toEqual([300]);
    // A hardware error: FAULT.
    expect(
      poll({
        presentPosition: 300,
        goalPosition: 300,
        moving: 0,
        torqueEnable: 0,
        hardwareErrorStatus: 0x04,
      }),
    ).toEqual([300]);
  });

  it('go out at every poll that changes something with stateIntervalMs 0, and meta says which', async () => {
    const { poll, own } = drive(0);
    expect([1, 2, 3, 4].flatMap((i) => poll({ presentPosition: i }))).toEqual([1, 2, 3, 4]);
    expect(poll({ presentPosition: 4 })).toEqual([]);
    await Promise.resolve();
    const meta = own.sent.find((m) => m.topic === 'sf/drives/d1/meta');
    expect(meta?.body.stateIntervalMs).toBe(0);
  });

  it('meta carries the default interval', async () => {
    const { own } = drive();
    await Promise.resolve();
    expect(own.sent.find((m) => m.topic === 'sf/drives/d1/meta')?.body.stateIntervalMs).toBe(200);
  });
});
