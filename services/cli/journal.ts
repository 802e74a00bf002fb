/**
 * `servofleet journal [--config FILE]`: the event store. Its database is the fleet
 * file's `journal.path`, relative to the fleet file; its query API and /healthz,
 * /readyz, /metrics listen on `journal.host:journal.port`. A replica of several that
 * share the event stream runs with its own `journal.instance`
 * (`SERVOFLEET_JOURNAL_INSTANCE`), which `loadFleetFile` puts in the fleet and
 * `startJournal` takes from there: client id and service id `journal-{instance}`.
 * Graceful shutdown on SIGINT/SIGTERM: what is received is committed, offline is
 * published, the database is closed.
 */
import { dirname, resolve } from 'node:path';
import { startJournal } from '../journal/src/index.ts';
import { createLogger, loadFleetFile, onShutdown, resolveFleetPath } from '../runtime/src/index.ts';
import { type CommandIo, commonArgs } from './main.ts';

export async function journalCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = commonArgs(args);
  if (values.help) {
    io.out(
      'usage: servofleet journal [--config FILE]\n' +
        'record every drive and line event in SQLite (journal.path, relative to the fleet file)\n' +
        'and serve GET /events, /commands/{id} on journal.host:journal.port\n' +
        'several replicas sharing the stream: each with its own database and its own\n' +
        'journal.instance or $SERVOFLEET_JOURNAL_INSTANCE (MQTT client id journal-{instance})',
    );
    return 0;
  }
  const { fleet, path } = loadFleetFile(resolveFleetPath(values.config, io.env, io.cwd), io.env);
  const dbPath = resolve(dirname(path), fleet.journal.path);
  const log = createLogger('journal', io.env);
  const journal = await startJournal({ fleet, dbPath, log });
  onShutdown(log, () => journal.close());
  await new Promise(() => {});
  return 0;
}
