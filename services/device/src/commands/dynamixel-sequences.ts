/**
 * Command sequences for Dynamixel X-series servos (xm430): torque enable stands for
 * the CiA 402 power stage, Goal Position for a profile-position set-point, reboot
 * (instruction 0x08) for fault reset. Units go through the profile's scales (counts,
 * counts/s).
 */
import type { Command } from '../../../contract/src/index.ts';
import type { CommandContext } from './context.ts';
import { COMPLETED, failed, type Outcome } from './outcome.ts';

type Accept = () => void;

export interface RebootPort {
  /** Dynamixel reboot instruction (clears a hardware error). */
  reboot?(driveId: string): Promise<void>;
}

export async function runDynamixel(
  ctx: CommandContext & { bus: CommandContext['bus'] & RebootPort },
  cmd: Command,
  accept: Accept,
  signal: AbortSignal,
): Promise<Outcome> {
  const opt = cmd.deadline === undefined ? {} : { deadlineWallMs: cmd.deadline };
  switch (cmd.type) {
    case 'enable': {
      const hw = ctx.latest()?.values.hardwareErrorStatus ?? 0;
      if (hw !== 0 && cmd.resetFault) await reboot(ctx);
      await ctx.bus.write(ctx.driveId, [['torqueEnable', 1]], opt);
      const v = await ctx.bus.read(ctx.driveId, ['torqueEnable', 'hardwareErrorStatus']);
      if (v.torqueEnable !== 1)
        return failed(
          'DRIVE_FAULT',
          `torque stayed off (hardware error status 0x${(v.hardwareErrorStatus ?? 0).toString(16)})`,
        );
      return COMPLETED;
    }
    case 'disable':
      await ctx.bus.write(ctx.driveId, [['torqueEnable', 0]], opt);
      return COMPLETED;
    case 'quickStop':
    case 'stop': {
      // Hold where it is now: goal := present position, through the priority lane.
      const pos =
        (await ctx.bus.read(ctx.driveId, ['presentPosition'], { priority: 'high' }))
          .presentPosition ?? 0;
      await ctx.bus.write(ctx.driveId, [['goalPosition', pos]], { priority: 'high' });
      return COMPLETED;
    }
    case 'resetFault':
      await reboot(ctx);
      return COMPLETED;
    case 'moveTo': {
      const latest = ctx.latest();
      const target = cmd.relative ? (latest?.state.position ?? 0) + cmd.position : cmd.position;
      const writes: [string, number][] = [];
      if (cmd.velocity !== undefined) writes.push(['profileVelocity', cmd.velocity]);
      if (cmd.acceleration !== undefined) writes.push(['profileAcceleration', cmd.acceleration]);
      writes.push(['goalPosition', target]);
      await ctx.bus.write(ctx.driveId, writes, opt);
      const since = ctx.clock.wallNow();
      accept();
      const v = cmd.velocity ?? latest?.values.profileVelocity ?? 1000;
      const budget =
        (Math.abs(target - (latest?.state.position ?? 0)) / Math.max(1, v)) * 1500 + 3000;
      const p = await ctx.waitForPoll(
        (p) =>
          (p.state.targetReached && Math.abs(p.state.position - target) <= 20) ||
          p.state.cia402 !== 'OPERATION_ENABLED',
        since,
        budget,
        signal,
      );
      if (signal.aborted) return failed('ABORTED', String(signal.reason ?? 'interrupted'));
      if (!p)
        return failed(
          'TIMEOUT',
          `not at ${target} within ${Math.round(budget)} ms: outcome unknown`,
        );
      if (p.state.fault) return failed('DRIVE_FAULT', `${p.state.fault.hex} ${p.state.fault.text}`);
      if (p.state.cia402 !== 'OPERATION_ENABLED')
        return failed('ABORTED', 'torque went off during the move');
      return COMPLETED;
    }
    default:
      return failed('BAD_REQUEST', `${cmd.type} is not supported by this drive`);
  }
}

async function reboot(ctx: CommandContext & { bus: RebootPort }): Promise<void> {
  if (!ctx.bus.reboot) throw new Error('this bus cannot send the Dynamixel reboot instruction');
  await ctx.bus.reboot(ctx.driveId);
}
