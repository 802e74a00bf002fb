/**
 * Command sequences for CiA 402 drives (sf-servo, kinco-fd): controlword writes that
 * walk the state machine (CiA 402 §6.1.1), profile-position set-points with the
 * new-set-point handshake (§12.2: bit 4 rising edge, acknowledged by statusword bit
 * 12), profile velocity, homing, halt. Object names come from the profile.
 */
import { cia402 } from '../../../../firmware-protocol/src/index.ts';
import type { Command, CommandOf } from '../../../contract/src/index.ts';
import type { CommandContext, Poll } from './context.ts';
import { COMPLETED, CommandEnd, failed, type Outcome } from './outcome.ts';

const CW = cia402.Controlword;
const BIT = cia402.StatuswordBit;
const NEW_SETPOINT = 1 << 4;
const CHANGE_IMMEDIATELY = 1 << 5;
const RELATIVE = 1 << 6;
const HALT = 1 << 8;

type Accept = () => void;

async function statusword(ctx: CommandContext, deadline?: number): Promise<number> {
  const v = await ctx.bus.read(
    ctx.driveId,
    ['statusword'],
    deadline === undefined ? {} : { deadlineWallMs: deadline },
  );
  return v.statusword ?? 0;
}

async function writeCw(ctx: CommandContext, cw: number, high = false): Promise<void> {
  await ctx.bus.write(ctx.driveId, [['controlword', cw]], high ? { priority: 'high' } : {});
}

/** Walk to `target` one controlword at a time (at most 8 writes). */
async function walk(
  ctx: CommandContext,
  target: cia402.Cia402State,
  allowFaultReset: boolean,
  deadline?: number,
) {
  let previousCw = 0;
  for (let i = 0; i < 8; i++) {
    const state = cia402.decodeStatusword(await statusword(ctx, i === 0 ? deadline : undefined));
    const next = cia402.nextControlword(state, target, { allowFaultReset, previousCw });
    if (next === null) return;
    if ('blocked' in next) {
      if (next.blocked === 'FAULT' || next.blocked === 'FAULT_REACTION') {
        throw new CommandEnd(failed('DRIVE_FAULT', `drive is in ${state}: reset the fault first`));
      }
      throw new CommandEnd(failed('INVALID_STATE', `drive is ${state}: cannot reach ${target}`));
    }
    await writeCw(ctx, next.controlword);
    previousCw = next.controlword;
  }
  const state = cia402.decodeStatusword(await statusword(ctx));
  if (state !== target) {
    throw new CommandEnd(failed('DRIVE_FAULT', `drive stayed in ${state} instead of ${target}`));
  }
}

async function ensureMode(ctx: CommandContext, mode: number, deadline?: number): Promise<void> {
  const latest = ctx.latest();
  if (latest && latest.values.modesOfOperationDisplay === mode) return;
  await ctx.bus.write(
    ctx.driveId,
    [['modesOfOperation', mode]],
    deadline === undefined ? {} : { deadlineWallMs: deadline },
  );
}

/** Wait for statusword bit 12 (set-point acknowledge / homing attained), reading it. */
async function waitAck(ctx: CommandContext): Promise<void> {
  for (let i = 0; i < 10; i++) {
    if ((await statusword(ctx)) & (1 << BIT.SetpointAck)) return;
  }
  throw new CommandEnd(
    failed('DRIVE_REJECTED', 'the drive did not acknowledge the set-point (statusword bit 12)'),
  );
}

/** Wait for a poll after `since` that ends the motion; fault or leaving OPERATION_ENABLED fails it. */
async function waitDone(
  ctx: CommandContext,
  since: number,
  timeoutMs: number,
  signal: AbortSignal,
  done: (p: Poll) => boolean,
): Promise<Outcome> {
  const p = await ctx.waitForPoll(
    (p) => done(p) || p.state.cia402 !== 'OPERATION_ENABLED',
    since,
    timeoutMs,
    signal,
  );
  if (signal.aborted) return failed('ABORTED', String(signal.reason ?? 'interrupted'));
  if (!p) return failed('TIMEOUT', `not done within ${Math.round(timeoutMs)} ms: outcome unknown`);
  if (p.state.cia402 === 'OPERATION_ENABLED') return COMPLETED;
  if (p.state.fault)
    return failed('DRIVE_FAULT', `drive faulted: ${p.state.fault.hex} ${p.state.fault.text}`);
  return failed('ABORTED', `motion ended: drive went to ${p.state.cia402}`);
}

/** Time a trapezoidal move of `distance` should take, with margin. */
function moveBudgetMs(distance: number, v: number, a: number): number {
  const t = Math.abs(distance) / Math.max(1, v) + (2 * v) / Math.max(1, a);
  return t * 1000 * 1.5 + 2000;
}

export async function runCia402(
  ctx: CommandContext,
  cmd: Command,
  accept: Accept,
  signal: AbortSignal,
): Promise<Outcome> {
  const deadline = cmd.deadline;
  switch (cmd.type) {
    case 'enable':
      await walk(ctx, 'OPERATION_ENABLED', cmd.resetFault === true, deadline);
      return COMPLETED;
    case 'disable':
      await ctx.bus.write(
        ctx.driveId,
        [['controlword', CW.DISABLE_VOLTAGE]],
        deadline === undefined ? {} : { deadlineWallMs: deadline },
      );
      return COMPLETED;
    case 'quickStop':
      // Priority lane: goes before any queued poll (CiA 402 quick stop, transition 11).
      await ctx.bus.write(ctx.driveId, [['controlword', CW.QUICK_STOP]], { priority: 'high' });
      return COMPLETED;
    case 'resetFault': {
      await writeCw(ctx, CW.DISABLE_VOLTAGE);
      await writeCw(ctx, CW.FAULT_RESET); // rising edge of bit 7
      await writeCw(ctx, CW.DISABLE_VOLTAGE);
      const state = cia402.decodeStatusword(await statusword(ctx));
      if (state === 'FAULT')
        return failed('DRIVE_FAULT', 'the fault is still there after a reset (its cause persists)');
      return COMPLETED;
    }
    case 'setMode': {
      const n = cia402.Mode[cmd.mode];
      await ctx.bus.write(
        ctx.driveId,
        [['modesOfOperation', n]],
        deadline === undefined ? {} : { deadlineWallMs: deadline },
      );
      const shown = await ctx.bus.read(ctx.driveId, ['modesOfOperationDisplay']);
      if (shown.modesOfOperationDisplay !== n) {
        return failed(
          'DRIVE_REJECTED',
          `the drive shows mode ${shown.modesOfOperationDisplay}, not ${n}`,
        );
      }
      return COMPLETED;
    }
    case 'moveTo':
      return moveTo(ctx, cmd, accept, signal);
    case 'jog': {
      await ensureMode(ctx, cia402.Mode.PV, deadline);
      const writes: [string, number][] = [];
      if (cmd.acceleration !== undefined) {
        writes.push(
          ['profileAcceleration', cmd.acceleration],
          ['profileDeceleration', cmd.acceleration],
        );
      }
      writes.push(['targetVelocity', cmd.velocity]);
      await ctx.bus.write(ctx.driveId, writes);
      await writeCw(ctx, CW.ENABLE_OPERATION); // clears a halt
      return COMPLETED;
    }
    case 'stop':
      return stop(ctx, signal);
    case 'home': {
      await ensureMode(ctx, cia402.Mode.HOMING, deadline);
      await writeCw(ctx, CW.ENABLE_OPERATION);
      await writeCw(ctx, CW.ENABLE_OPERATION | NEW_SETPOINT); // start homing (§12.3)
      accept();
      const since = ctx.clock.wallNow();
      const out = await waitDone(ctx, since, 60_000, signal, (p) => {
        const sw = p.values.statusword ?? 0;
        return (sw & (1 << BIT.SetpointAck)) !== 0 && p.state.targetReached;
      });
      await writeCw(ctx, CW.ENABLE_OPERATION).catch(() => {});
      return out;
    }
  }
}

async function moveTo(
  ctx: CommandContext,
  cmd: CommandOf<'moveTo'>,
  accept: Accept,
  signal: AbortSignal,
) {
  await ensureMode(ctx, cia402.Mode.PP, cmd.deadline);
  const latest = ctx.latest();
  const v = cmd.velocity ?? latest?.values.profileVelocity ?? 10_000;
  const a = cmd.acceleration ?? latest?.values.profileAcceleration ?? 100_000;
  const writes: [string, number][] = [['targetPosition', cmd.position]];
  if (cmd.velocity !== undefined) writes.push(['profileVelocity', cmd.velocity]);
  if (cmd.acceleration !== undefined) writes.push(['profileAcceleration', cmd.acceleration]);
  if (cmd.deceleration !== undefined || cmd.acceleration !== undefined) {
    writes.push(['profileDeceleration', cmd.deceleration ?? cmd.acceleration!]);
  }
  await ctx.bus.write(
    ctx.driveId,
    writes,
    cmd.deadline === undefined ? {} : { deadlineWallMs: cmd.deadline },
  );
  // New set-point, change immediately; bit 4 low first so the next write is an edge.
  await writeCw(ctx, CW.ENABLE_OPERATION);
  await writeCw(
    ctx,
    CW.ENABLE_OPERATION | NEW_SETPOINT | CHANGE_IMMEDIATELY | (cmd.relative ? RELATIVE : 0),
  );
  await waitAck(ctx);
  await writeCw(ctx, CW.ENABLE_OPERATION);
  const since = ctx.clock.wallNow();
  accept();
  const distance = cmd.relative ? cmd.position : cmd.position - (latest?.state.position ?? 0);
  return waitDone(ctx, since, moveBudgetMs(distance, v, a), signal, (p) => p.state.targetReached);
}

async function stop(ctx: CommandContext, signal: AbortSignal): Promise<Outcome> {
  const latest = ctx.latest();
  const mode = latest?.values.modesOfOperationDisplay;
  // Halt (controlword bit 8) through the priority lane: decelerate and hold.
  await writeCw(ctx, CW.ENABLE_OPERATION | HALT, true);
  const since = ctx.clock.wallNow();
  const out = await waitDone(
    ctx,
    since,
    10_000,
    signal,
    (p) => p.state.targetReached && Math.abs(p.state.velocity) < 100,
  );
  if (out.status !== 'completed') return out;
  // Leave nothing to resume: in PP the target becomes where the axis stands, in PV the
  // target velocity becomes 0; then release the halt.
  if (mode === cia402.Mode.PV) {
    await ctx.bus.write(ctx.driveId, [['targetVelocity', 0]], { priority: 'high' });
  } else if (mode === cia402.Mode.PP) {
    const pos =
      (await ctx.bus.read(ctx.driveId, ['positionActual'], { priority: 'high' })).positionActual ??
      0;
    await ctx.bus.write(ctx.driveId, [['targetPosition', pos]], { priority: 'high' });
    await writeCw(ctx, CW.ENABLE_OPERATION | HALT | NEW_SETPOINT | CHANGE_IMMEDIATELY, true);
  }
  await writeCw(ctx, CW.ENABLE_OPERATION, true);
  return COMPLETED;
}
