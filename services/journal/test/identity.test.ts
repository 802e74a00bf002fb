/**
 * A journal's MQTT client id and service id: `journal-{instance}` for a named replica;
 * without an instance exactly what the journal has always used (`sf-journal-` + the
 * first 12 hex digits of SHA-256 of the database path, service `journal`), so an
 * existing session is picked up again.
 */
import { describe, expect, it } from 'vitest';
import { journalClientId, journalIdentity, SERVICE_ID } from '../src/index.ts';

const DB = '/var/lib/servofleet/journal.db';

describe('journalIdentity', () => {
  it('without an instance: the client id from the database path, service id `journal`', () => {
    // sha256("/var/lib/servofleet/journal.db") = 2d43b64ea0c8…
    expect(journalIdentity(DB, undefined)).toEqual({
      clientId: 'sf-journal-2d43b64ea0c8',
      serviceId: 'journal',
    });
    expect(journalClientId(DB)).toBe('sf-journal-2d43b64ea0c8');
    expect(SERVICE_ID).toBe('journal');
  });

  it('replicas with one path and their own instance ids: distinct ids, equal to the service id', () => {
    const a = journalIdentity(DB, 'a');
    const b = journalIdentity(DB, 'b');
    expect(a).toEqual({ clientId: 'journal-a', serviceId: 'journal-a' });
    expect(b).toEqual({ clientId: 'journal-b', serviceId: 'journal-b' });
    // The path no longer matters: a replica keeps its session when its volume moves.
    expect(journalIdentity('/elsewhere/j.db', 'a')).toEqual(a);
    // The longest instance id (15 characters) still fits the 23 characters every
    // MQTT 3.1.1 server must accept [MQTT-3.1.3-5].
    expect(journalIdentity(DB, 'x'.repeat(15)).clientId).toHaveLength(23);
  });
});
