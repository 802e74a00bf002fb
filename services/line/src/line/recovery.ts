/**
 * What the controller does at start with what the saga log says (after a clean stop, a
 * crash or a kill -9), reported as one `recovery` event:
 *
 * - no open cycle: the line takes back its last state; a line that was RUNNING less
 *   than `resumeWithinMs` ago cycles on, otherwise it is STOPPED;
 * - an open cycle of an ESTOPPED line: closed as aborted, nothing moves (only a reset
 *   clears the estop);
 * - an open cycle being compensated: the compensation is finished;
 * - an open cycle younger than `resumeWithinMs` whose active stations' drives are all
 *   online: resumed — its in-flight commands are sent again with their logged
 *   commandId (a device service answers a known one from its cache, so nothing runs
 *   twice), the rest of the cycle follows;
 * - otherwise: compensated (every part that may have run, newest step first), every
 *   drive stopped, the line STOPPED with the reason.
 */
import type { Clock, Logger } from '../../../runtime/src/index.ts';
import type { DrivePort } from '../drives/drive-link.ts';
import type { SagaBook } from '../saga/saga-book.ts';
import type { LineController, LineOutput } from './line-controller.ts';

export interface RecoveryDeps {
  book: SagaBook;
  link: DrivePort;
  clock: Clock;
  log: Logger;
  out: LineOutput;
  /** Default 30 s. */
  resumeWithinMs?: number | undefined;
}

export async function recoverLine(c: LineController, d: RecoveryDeps): Promise<void> {
  const s = d.book.summary;
  c.restore(s.state, s.reason);
  c.degraded.restore(s.bypassed);
  const window = d.resumeWithinMs ?? 30_000;
  const age = s.lastTs === 0 ? 0 : d.clock.wallNow() - s.lastTs;
  const open = s.open;
  const report = (action: string, detail: string, resent: string[] = []) => {
    d.log.info({ action, cycle: open?.cycle ?? null, resent }, `recovery: ${detail}`);
    d.out.event({ type: 'recovery', cycle: open?.cycle ?? null, action, detail, resent });
  };
  // Stations whose drives are down now go out (the bypassable ones) before anything moves.
  for (const drive of c.plan.drives) if (d.link.isDown(drive)) c.degraded.onDrive(drive);
  c.publishState();

  if (!open) {
    if (c.state === 'RUNNING' && age < window) {
      report('none', `was running between cycles ${Math.round(age)} ms ago: cycling on`);
      c.run();
    } else if (c.state === 'RUNNING' || c.state === 'STOPPING') {
      c.setState('STOPPED', `controller restarted ${Math.round(age)} ms after its last record`);
      report('none', 'no interrupted cycle: stopped');
    } else {
      report('none', 'no interrupted cycle');
    }
    return;
  }
  const inFlight = open.inFlight().map((r) => r.commandId);
  if (c.state === 'ESTOPPED') {
    c.endAborted(open.cycle, 'estopped before the restart');
    report('closed', `cycle ${open.cycle} was cut short by an estop: closed without motion`);
    return;
  }
  if (open.compensating) {
    report('compensated', `cycle ${open.cycle} was being compensated: finishing it`, inFlight);
    await c.safeStop(open.cycle, open.compensating.reason, open.compensating.after);
    return;
  }
  const down = c.stations
    .all()
    .filter((st) => st.status === 'active')
    .flatMap((st) => st.plan.drives)
    .filter((drive) => !d.link.isUp(drive));
  if (age < window && down.length === 0) {
    report(
      'resumed',
      `cycle ${open.cycle} interrupted ${Math.round(age)} ms ago at step ${open.lastStep}: resumed ` +
        '(in-flight commands sent again with their commandId)',
      inFlight,
    );
    if (c.state !== 'RUNNING' && c.state !== 'STOPPING') c.setState('RUNNING', 'recovery');
    c.run(open.cycle);
    return;
  }
  const why =
    down.length > 0
      ? `${down.join(', ')} not online`
      : `interrupted ${Math.round(age)} ms ago (resume window ${window} ms)`;
  report('compensated', `cycle ${open.cycle} ${why}: compensating`, inFlight);
  await c.safeStop(open.cycle, `recovery: cycle ${open.cycle} ${why}`, 'STOPPED');
}
