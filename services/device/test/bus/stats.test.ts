/** DriveCounters: polls per second over the recent window, from the last polls' times. */
import { describe, expect, it } from 'vitest';
import { DriveCounters } from '../../src/bus/stats.ts';

describe('DriveCounters.achievedHz', () => {
  it('counts the polls of the last 2 s, however many came before', () => {
    const c = new DriveCounters(50);
    for (let i = 1; i <= 200; i++) c.poll(i * 50); // 20 Hz for 10 s
    expect(c.polls).toBe(200);
    expect(c.achievedHz(10_000, 0)).toBe(20);
    // Half the rate over the last second: 10 + 20 polls in the last 2 s.
    for (let i = 1; i <= 10; i++) c.poll(10_000 + i * 100);
    expect(c.achievedHz(11_000, 0)).toBe(15);
    // A stall: none in the window.
    expect(c.achievedHz(20_000, 0)).toBe(0);
  });

  it('is 0 before the first poll and over the time since the start when shorter', () => {
    const c = new DriveCounters(50);
    expect(c.achievedHz(1000, 0)).toBe(0);
    for (let i = 1; i <= 10; i++) c.poll(i * 50);
    expect(c.achievedHz(500, 0)).toBe(20);
  });
});
