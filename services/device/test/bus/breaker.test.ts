/**
 * DriveBreaker: consecutive communication failures open it; an answer to a group read
 * (recordSuccess, outside execute) counts as a success between them, as one through
 * execute does.
 */
import { describe, expect, it } from 'vitest';
import { DriveBreaker } from '../../src/bus/breaker.ts';
import { BusError } from '../../src/bus/errors.ts';
import { TestClock } from './harness.ts';

const timeout = () => Promise.reject(new BusError('TIMEOUT', 'no answer'));

async function fail(b: DriveBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await expect(b.execute('d1', timeout)).rejects.toThrow();
}

describe('DriveBreaker', () => {
  it('opens after three failures in a row', async () => {
    const b = new DriveBreaker(new TestClock(), {}, () => {});
    await fail(b, 2);
    expect(b.state).toBe('closed');
    await fail(b, 1);
    expect(b.state).toBe('open');
    await expect(b.execute('d1', async () => 1)).rejects.toMatchObject({
      code: 'DRIVE_UNREACHABLE',
    });
  });

  it('counts an answer in a group read as a success between failures', async () => {
    const b = new DriveBreaker(new TestClock(), {}, () => {});
    await fail(b, 2);
    b.recordSuccess();
    await fail(b, 2);
    expect(b.state).toBe('closed');
    await expect(b.execute('d1', async () => 1)).resolves.toBe(1);
    await fail(b, 2);
    expect(b.state).toBe('closed');
    await fail(b, 1);
    expect(b.state).toBe('open');
    // Open: an answer outside execute does not close it (only the probe does).
    b.recordSuccess();
    expect(b.state).toBe('open');
  });
});
