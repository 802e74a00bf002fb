/**
 * Checks a command passes before anything goes on the wire: supported by the drive,
 * allowed in its state (from the latest poll), inside its soft limits. A refused
 * command changes nothing.
 */
import type { Command } from '../../../contract/src/index.ts';
import { COMMANDS_BY_KIND, type DriveKind } from '../drive/drive-view.ts';
import type { Limits, Poll } from './context.ts';
import { type Outcome, rejected } from './outcome.ts';

const MOTION = new Set(['moveTo', 'jog', 'home']);

export function precheck(
  cmd: Command,
  kind: DriveKind,
  limits: Limits,
  latest: Poll | undefined,
): Outcome | undefined {
  if (!COMMANDS_BY_KIND[kind].includes(cmd.type)) {
    return rejected(
      'BAD_REQUEST',
      `this drive does not take ${cmd.type} (it takes ${COMMANDS_BY_KIND[kind].join(', ')})`,
    );
  }
  const state = latest?.state;
  const faulted = state?.cia402 === 'FAULT' || state?.cia402 === 'FAULT_REACTION_ACTIVE';
  if (
    faulted &&
    (MOTION.has(cmd.type) || cmd.type === 'setMode' || (cmd.type === 'enable' && !cmd.resetFault))
  ) {
    const f = state?.fault;
    return rejected(
      'DRIVE_FAULT',
      `drive is in ${state?.cia402}${f ? ` (${f.hex} ${f.text})` : ''}: reset the fault first${cmd.type === 'enable' ? ' or enable with resetFault: true' : ''}`,
    );
  }
  if (MOTION.has(cmd.type) && state && state.cia402 !== 'OPERATION_ENABLED') {
    return rejected(
      'INVALID_STATE',
      `${cmd.type} needs OPERATION_ENABLED, drive is ${state.cia402}: enable it first`,
    );
  }
  if (cmd.type === 'stop' && state && state.cia402 !== 'OPERATION_ENABLED') {
    // Nothing moves without the power stage; a halt controlword would enable it. Done.
    return { status: 'completed' };
  }
  if (cmd.type === 'resetFault' && state && !faulted) {
    // Nothing to reset: answered as done, nothing sent.
    return { status: 'completed' };
  }
  return checkLimits(cmd, limits, latest);
}

function checkLimits(cmd: Command, limits: Limits, latest: Poll | undefined): Outcome | undefined {
  if (cmd.type === 'moveTo') {
    const base = cmd.relative ? (latest?.state.position ?? 0) : 0;
    const target = base + cmd.position;
    const range = limits.position;
    if (range && (target < range[0] || target > range[1])) {
      return rejected('LIMIT_EXCEEDED', `position ${target} outside [${range[0]}, ${range[1]}]`);
    }
    if (
      cmd.velocity !== undefined &&
      limits.velocity !== undefined &&
      cmd.velocity > limits.velocity
    ) {
      return rejected('LIMIT_EXCEEDED', `velocity ${cmd.velocity} above ${limits.velocity}`);
    }
    for (const a of [cmd.acceleration, cmd.deceleration]) {
      if (a !== undefined && limits.acceleration !== undefined && a > limits.acceleration) {
        return rejected('LIMIT_EXCEEDED', `acceleration ${a} above ${limits.acceleration}`);
      }
    }
  }
  if (cmd.type === 'jog') {
    if (limits.velocity !== undefined && Math.abs(cmd.velocity) > limits.velocity) {
      return rejected('LIMIT_EXCEEDED', `velocity ${cmd.velocity} outside ±${limits.velocity}`);
    }
    if (
      cmd.acceleration !== undefined &&
      limits.acceleration !== undefined &&
      cmd.acceleration > limits.acceleration
    ) {
      return rejected(
        'LIMIT_EXCEEDED',
        `acceleration ${cmd.acceleration} above ${limits.acceleration}`,
      );
    }
  }
  return undefined;
}
