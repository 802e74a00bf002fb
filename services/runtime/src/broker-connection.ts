/**
 * What `connectMqtt` needs from the fleet file's broker section, the same for every
 * service: the URL, the credentials (from the environment) and TLS, with its files read
 * now (CONFIG_TLS_FILE when one cannot be used).
 */
import type { BrokerConfig } from './config/fleet-schema.ts';
import { readBrokerTls } from './config/tls-files.ts';
import type { ConnectMqttOptions } from './mqtt-types.ts';

export type BrokerConnection = Pick<ConnectMqttOptions, 'url' | 'username' | 'password' | 'tls'>;

export function brokerConnection(broker: BrokerConfig): BrokerConnection {
  const tls = readBrokerTls(broker.tls);
  return {
    url: broker.url,
    ...(broker.username !== undefined ? { username: broker.username } : {}),
    ...(broker.password !== undefined ? { password: broker.password } : {}),
    ...(tls ? { tls } : {}),
  };
}
