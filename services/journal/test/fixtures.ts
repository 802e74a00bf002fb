/** Event rows for tests: what `toEventRow` would make of a drive's or a line's event. */
import type { EventRow } from '../src/index.ts';

let n = 0;

export function row(
  over: Omit<Partial<EventRow>, 'json'> & {
    commandId?: string;
    json?: Record<string, unknown>;
  } = {},
): EventRow {
  n++;
  const driveId = over.driveId === undefined ? 'axis-1' : over.driveId;
  const lineId = over.lineId === undefined ? null : over.lineId;
  const base = {
    eventId: over.eventId ?? `ev-${n}`,
    ts: over.ts ?? 1_764_000_000_000 + n,
    type: over.type ?? 'state',
  };
  const json = {
    ...base,
    ...(driveId ? { driveId } : {}),
    ...(lineId ? { lineId } : {}),
    ...(over.commandId ? { commandId: over.commandId } : {}),
    ...(over.phase ? { phase: over.phase } : {}),
    ...over.json,
  };
  const { commandId } = over;
  return {
    ...base,
    driveId,
    lineId,
    commandIds: over.commandIds ?? (commandId ? [commandId] : []),
    phase: over.phase ?? null,
    topic: driveId ? `servofleet/drives/${driveId}/events` : `servofleet/lines/${lineId}/events`,
    json: JSON.stringify(json),
    arrived: over.arrived ?? base.ts,
  };
}
