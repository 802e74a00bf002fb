/**
 * `servofleet gateway [--config FILE]`: the HTTP gateway and dashboard on the fleet
 * file's gateway host and port (`SERVOFLEET_HTTP_PORT` overrides the port), one line
 * saying where, graceful shutdown on SIGINT/SIGTERM.
 */
import { GatewayError, startGateway } from '../gateway/src/index.ts';
import { createLogger, loadFleetFile, onShutdown, resolveFleetPath } from '../runtime/src/index.ts';
import { type CommandIo, commonArgs } from './main.ts';

export async function gatewayCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = commonArgs(args);
  if (values.help) {
    io.out(
      "usage: servofleet gateway [--config FILE]\nrun the HTTP gateway: REST API, live stream, OpenAPI/AsyncAPI docs and the dashboard\n(port: the fleet file's gateway.port, or $SERVOFLEET_HTTP_PORT)",
    );
    return 0;
  }
  const { fleet } = loadFleetFile(resolveFleetPath(values.config, io.env, io.cwd), io.env);
  const log = createLogger('gateway', io.env);
  let gw: Awaited<ReturnType<typeof startGateway>>;
  try {
    gw = await startGateway({ fleet, log });
  } catch (err) {
    if (err instanceof GatewayError) {
      io.err(`servofleet gateway: ${err.code}: ${err.message}`);
      return 1;
    }
    throw err;
  }
  onShutdown(log, () => gw.close());
  await new Promise(() => {});
  return 0;
}
