/**
 * The journal on a whole rig (aedes, simulator, device services): commands sent to a
 * drive leave their lifecycle in the journal, and `GET /commands/{id}` gives it back
 * in order, exactly as the drive published it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningJournal, startJournal } from '../../services/journal/src/index.ts';
import { eventually, type Rig, silent, startRig } from '../device/harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'servofleet-journal-e2e-'));
let rig: Rig;
let journal: RunningJournal;
/** Wall-clock time once the journal was subscribed: events from then on must all be in it. */
let since = 0;

beforeAll(async () => {
  rig = await startRig('aedes');
  journal = await startJournal({
    fleet: rig.fleet,
    dbPath: join(dir, 'journal.db'),
    log: silent,
    port: 0,
  });
  await eventually(async () => (await fetch(`${journal.url}/readyz`)).ok, 'journal ready', 10_000);
  await rig.watcher.next(
    (m) => m.topic === 'servofleet/drives/axis-1/availability' && m.json.status === 'online',
    'axis-1 online',
    10_000,
  );
  since = Date.now();
}, 30_000);

afterAll(async () => {
  await journal?.close();
  await rig?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${journal.url}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The command's events as a subscriber saw them on MQTT. */
function published(commandId: string): Record<string, unknown>[] {
  return rig.watcher.messages
    .filter((m) => m.topic === 'servofleet/drives/axis-1/events' && m.json.commandId === commandId)
    .map((m) => m.json);
}

describe('journal on a rig', () => {
  it('stores a command lifecycle; GET /commands/{id} returns it in order', async () => {
    const w = rig.watcher;
    expect(await w.command('axis-1', { commandId: 'jr-en', type: 'enable' })).toMatchObject({
      status: 'completed',
    });
    expect(
      await w.command('axis-1', { commandId: 'jr-mv', type: 'moveTo', position: 5000 }),
    ).toMatchObject({ status: 'completed' });

    const history = await eventually(
      async () => {
        const r = await get('/commands/jr-mv');
        return r.status === 200 && r.body.final === true && r.body;
      },
      'the final event of jr-mv in the journal',
      8000,
    );
    expect(history).toMatchObject({
      commandId: 'jr-mv',
      driveId: 'axis-1',
      commandType: 'moveTo',
      status: 'completed',
      final: true,
    });
    const events = history.events as Record<string, unknown>[];
    expect(events.map((e) => e.phase)).toEqual(['received', 'accepted', 'completed']);
    // Exactly what the drive published, field for field.
    expect(events).toEqual(published('jr-mv'));
  });

  it('stores a rejected command with its error code', async () => {
    const reply = await rig.watcher.command('axis-1', {
      commandId: 'jr-far',
      type: 'moveTo',
      position: 900_000,
    });
    expect(reply).toMatchObject({ status: 'rejected', error: { code: 'LIMIT_EXCEEDED' } });
    const history = await eventually(
      async () => {
        const r = await get('/commands/jr-far');
        return r.status === 200 && r.body.final === true && r.body;
      },
      'the rejection in the journal',
      8000,
    );
    const events = history.events as { phase: string; error?: { code: string } }[];
    expect(events.map((e) => e.phase)).toEqual(['received', 'rejected']);
    expect(events[1]!.error?.code).toBe('LIMIT_EXCEEDED');
  });

  it('answers the drive history by type, each event once', async () => {
    const { status, body } = await get('/drives/axis-1/events?type=state&limit=1000');
    expect(status).toBe(200);
    const events = body.events as { eventId: string; to: string; ts: number }[];
    // enable walked the CiA 402 state machine up to OPERATION_ENABLED.
    expect(events.map((e) => e.to)).toContain('OPERATION_ENABLED');
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    const onMqtt = rig.watcher.messages.filter(
      (m) =>
        m.topic === 'servofleet/drives/axis-1/events' &&
        m.json.type === 'state' &&
        (m.json.ts as number) >= since,
    );
    expect(onMqtt.length).toBeGreaterThan(0);
    expect(events.filter((e) => e.ts >= since).map((e) => e.eventId)).toEqual(
      onMqtt.map((m) => m.json.eventId),
    );
  });
});
