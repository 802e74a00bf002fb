/**
 * Wall-clock timers may fire a little before their due time (Node rounds to the
 * millisecond). A breaker probe whose timer fires early must still go out, or a dead
 * unit that comes back would stay unreachable for ever.
 */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../runtime/src/index.ts';
import { rigBus, runFor, runUntil, settle, simRig } from './harness.ts';

/** Like Node's timers seen through performance.now(): timers of 100 ms and more (breaker probes) fire `ms` early. */
function earlyBy(ms: number, inner: Clock): Clock {
  return {
    now: () => inner.now(),
    wallNow: () => inner.wallNow(),
    setTimer: (delay, fn) => inner.setTimer(delay >= 100 ? delay - ms : delay, fn),
    clearTimer: (h) => inner.clearTimer(h),
  };
}

describe('breaker probes on a clock whose timers fire early', () => {
  it('a dead unit that returns comes back online', async () => {
    const rig = simRig('modbus-rtu');
    const { bus } = rigBus(rig, 'modbus-rtu', {
      clock: earlyBy(1, rig.clock),
      breaker: { failures: 3, probeInitialMs: 200, probeMaxMs: 1000 },
    });
    bus.start();
    await runFor(rig, 300);
    rig.sim.inject({ drive: 'axis-2', fault: 'no-response' });
    expect(await runUntil(rig, () => bus.availability('axis-2') === 'unreachable', 2000)).toBe(
      true,
    );
    await runFor(rig, 3000);
    rig.sim.clear({ drive: 'axis-2' });
    expect(await runUntil(rig, () => bus.availability('axis-2') === 'online', 3000)).toBe(true);
    // stop() waits for the transaction on the wire: let simulated time run meanwhile.
    await settle(rig, bus.stop());
  });
});
