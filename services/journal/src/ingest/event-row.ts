/**
 * An MQTT message on an `events` topic → the row the journal stores, or why not.
 *
 * The journal checks only what it indexes: the contract's event head (`eventId`,
 * `ts`, `type`, services/contract schemas/events.ts and schemas/lines.ts) and, where
 * present, `phase` and the commands the event is about: a drive's command event has
 * `commandId`, a line's step event `commandIds`, a line's estop event
 * `results[].commandId`. Other fields are kept as they are: v1 may add fields to an event
 * (DESIGN.md "add fields, never rename them"), and a journal that rejected them would
 * lose history. Drive and line ids come from the topic, which the broker's ACL ties
 * to the publisher.
 */
import type { Topics } from '../../../contract/src/index.ts';

/** Largest event payload the journal stores (bytes); bigger ones are dropped as invalid. */
export const MAX_EVENT_BYTES = 64 * 1024;
/** Most command ids one event is indexed under. */
export const MAX_COMMAND_IDS = 64;

export interface EventRow {
  eventId: string;
  /** The event's own `ts`, ms since the epoch. */
  ts: number;
  driveId: string | null;
  lineId: string | null;
  type: string;
  /** The commands the event is about (indexed for `/commands/{id}` and `commandId=`). */
  commandIds: string[];
  /** A command event's phase (`received`, `accepted`, `completed`…). */
  phase: string | null;
  topic: string;
  /** The whole event, re-serialised (so it is known to be one JSON object). */
  json: string;
  /** When the journal received it, ms since the epoch. */
  arrived: number;
}

export type RowResult = { ok: true; row: EventRow } | { ok: false; reason: string };

const str = (v: unknown, max: number): string | null =>
  typeof v === 'string' && v.length > 0 && v.length <= max ? v : null;

export function toEventRow(t: Topics, topic: string, payload: Buffer, arrived: number): RowResult {
  const drive = t.parseDrive(topic);
  const line = drive ? undefined : t.parseLine(topic);
  if (!(drive?.kind === 'events' || line?.kind === 'events')) {
    return { ok: false, reason: `not an events topic: ${topic}` };
  }
  if (payload.length > MAX_EVENT_BYTES) {
    return { ok: false, reason: `payload of ${payload.length} bytes (limit ${MAX_EVENT_BYTES})` };
  }
  let e: unknown;
  try {
    e = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  if (typeof e !== 'object' || e === null || Array.isArray(e)) {
    return { ok: false, reason: 'payload is not a JSON object' };
  }
  const o = e as Record<string, unknown>;
  const eventId = str(o.eventId, 128);
  if (eventId === null) return { ok: false, reason: 'eventId missing or not a string of 1–128' };
  if (typeof o.ts !== 'number' || !Number.isSafeInteger(o.ts) || o.ts < 0) {
    return { ok: false, reason: 'ts missing or not ms since the epoch' };
  }
  const type = str(o.type, 64);
  if (type === null) return { ok: false, reason: 'type missing or not a string of 1–64' };
  return {
    ok: true,
    row: {
      eventId,
      ts: o.ts,
      driveId: drive ? drive.driveId : str(o.driveId, 64),
      lineId: line ? line.lineId : str(o.lineId, 64),
      type,
      commandIds: commandIdsOf(o),
      phase: str(o.phase, 32),
      topic,
      json: JSON.stringify(o),
      arrived,
    },
  };
}

function commandIdsOf(o: Record<string, unknown>): string[] {
  const ids = new Set<string>();
  const add = (v: unknown) => {
    const id = str(v, 128);
    if (id !== null && ids.size < MAX_COMMAND_IDS) ids.add(id);
  };
  add(o.commandId);
  if (Array.isArray(o.commandIds)) for (const v of o.commandIds) add(v);
  if (Array.isArray(o.results)) {
    for (const r of o.results)
      if (typeof r === 'object' && r !== null) add((r as { commandId?: unknown }).commandId);
  }
  return [...ids];
}
