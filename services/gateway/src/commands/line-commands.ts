/**
 * Line commands over MQTT (`{root}/lines/{id}/commands`), answered the way drive
 * commands are: to the MQTT 5 response topic with the correlation data, or to
 * `replyTo` on 3.1.1; `accepted` for what takes time, then one final status. Sent only
 * while a line controller publishes the line's state; otherwise the route answers 503.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorCode } from '../../../contract/src/index.ts';
import { REPLY_STATUSES, type ReplyStatus } from '../../../contract/src/index.ts';
import type { Clock } from '../../../runtime/src/index.ts';
import { ApiError, HTTP_STATUS } from '../errors.ts';
import type { GatewayMqtt, LineAction, Relayed } from '../ports.ts';

export interface LineReplyJson {
  commandId: string;
  status: ReplyStatus;
  ts: number;
  lineId: string;
  error?: { code: string; message: string };
  [k: string]: unknown;
}

export function isLineReply(j: unknown): j is LineReplyJson {
  const r = j as Record<string, unknown> | null;
  return (
    !!r &&
    typeof r === 'object' &&
    typeof r.lineId === 'string' &&
    typeof r.commandId === 'string' &&
    typeof r.ts === 'number' &&
    (REPLY_STATUSES as readonly string[]).includes(r.status as string)
  );
}

export class LineCommander {
  readonly #waiting = new Map<string, (r: LineReplyJson) => void>();

  constructor(
    private readonly d: {
      mqtt: GatewayMqtt;
      clock: Clock;
      root: string;
      replyTopic: string;
    },
  ) {}

  deliver(r: LineReplyJson): void {
    this.#waiting.get(r.commandId)?.(r);
  }

  async send(lineId: string, action: LineAction, timeoutMs: number): Promise<Relayed> {
    const { mqtt, clock, replyTopic } = this.d;
    if (!mqtt.connected) {
      throw new ApiError(
        503,
        'SERVICE_UNAVAILABLE',
        'the gateway has no connection to the MQTT broker: nothing was sent',
        {
          headers: { 'retry-after': '2' },
        },
      );
    }
    const commandId = randomUUID();
    const cmd = { commandId, type: action, deadline: clock.wallNow() + timeoutMs };
    const v5 = mqtt.protocolVersion === 5;
    let timer: ReturnType<Clock['setTimer']> | undefined;
    const answer = new Promise<LineReplyJson | undefined>((resolve) => {
      this.#waiting.set(commandId, resolve);
      timer = clock.setTimer(timeoutMs, () => resolve(undefined));
    });
    try {
      await mqtt.publish(
        `${this.d.root}/lines/${lineId}/commands`,
        JSON.stringify(v5 ? cmd : { ...cmd, replyTo: replyTopic }),
        v5
          ? {
              qos: 1,
              properties: { responseTopic: replyTopic, correlationData: Buffer.from(commandId) },
            }
          : { qos: 1 },
      );
      const r = await answer;
      if (!r) {
        throw new ApiError(
          504,
          'TIMEOUT',
          `no answer from the line controller within ${timeoutMs} ms: the outcome is unknown`,
          { extra: { commandId, outcome: 'unknown' } },
        );
      }
      if (r.status === 'completed') return { status: 200, body: r };
      if (r.status === 'accepted') return { status: 202, body: r };
      const code = (r.error?.code ?? 'INTERNAL') as ErrorCode;
      const status = code in HTTP_STATUS ? HTTP_STATUS[code] : 502;
      return {
        status,
        body: {
          error: r.error ?? { code, message: `the line controller answered ${r.status}` },
          commandId,
          status: r.status,
        },
      };
    } finally {
      if (timer) clock.clearTimer(timer);
      this.#waiting.delete(commandId);
    }
  }
}
