/**
 * Every error answer has one shape, `{ "error": { "code", "message", "path"? } }` (plus
 * `commandId`, `outcome`… where they apply), with a contract code:
 * - ApiError from handlers and hooks: as it says;
 * - schema validation (Ajv, `removeAdditional: false`): 400 BAD_REQUEST with the JSON
 *   pointer of the bad field (`/colour` for an unknown field, `/position` for a wrong type);
 * - a body that is not JSON, or not `application/json`: 400 BAD_REQUEST;
 * - a body over the limit: 413 PAYLOAD_TOO_LARGE;
 * - process overload (@fastify/under-pressure): 503 OVERLOADED with Retry-After;
 * - no such route: 404 NOT_FOUND; anything else: 500 INTERNAL (logged, details kept out).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ContractError, ErrorCode } from '../../../contract/src/index.ts';
import { ApiError } from '../errors.ts';

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

export function installErrorHandling(app: FastifyInstance): void {
  // Only JSON bodies: text/plain would otherwise reach the schema as a string.
  app.removeContentTypeParser('text/plain');

  app.setNotFoundHandler((req, reply) => {
    send(reply, 404, {
      code: 'NOT_FOUND',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
    });
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) return sendApiError(reply, err);
    const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
    if (fe.validation && fe.validation.length > 0) {
      return send(reply, 400, validationError(fe.validation[0]!, fe.validationContext ?? 'body'));
    }
    switch (fe.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return send(reply, 413, {
          code: 'PAYLOAD_TOO_LARGE',
          message: `the body is larger than ${req.routeOptions.bodyLimit ?? 0} bytes`,
        });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(reply, 400, {
          code: 'BAD_REQUEST',
          message: `the body must be JSON (Content-Type: application/json), got ${req.headers['content-type'] ?? 'no content type'}`,
          path: '/',
        });
      case 'FST_UNDER_PRESSURE':
        return send(reply, 503, {
          code: 'OVERLOADED',
          message: 'the gateway is under pressure (event loop delay or memory): retry later',
        });
      default:
        break;
    }
    const status = fe.statusCode ?? 500;
    if (status === 400) {
      // JSON.parse failures and an empty JSON body.
      return send(reply, 400, {
        code: 'BAD_REQUEST',
        message: `the body is not valid JSON: ${fe.message}`,
        path: '/',
      });
    }
    if (status === 413) {
      return send(reply, 413, { code: 'PAYLOAD_TOO_LARGE', message: fe.message });
    }
    if (status >= 400 && status < 500) {
      return send(reply, status, { code: 'BAD_REQUEST', message: fe.message });
    }
    req.log.error({ err }, 'unexpected error');
    return send(reply, 500, {
      code: 'INTERNAL',
      message: 'an unexpected error inside the gateway; the logs have the details',
    });
  });
}

/** An ApiError as its answer: for a handler that answers one without throwing it. */
export function sendApiError(reply: FastifyReply, err: ApiError): FastifyReply {
  reply.headers(err.headers);
  const body: ContractError = { code: err.code, message: err.message };
  if (err.path !== undefined) body.path = err.path;
  return send(reply, err.statusCode, body, err.extra);
}

function send(
  reply: FastifyReply,
  status: number,
  error: ContractError | { code: ErrorCode; message: string; path?: string },
  extra: Record<string, unknown> = {},
): FastifyReply {
  return reply.status(status).send({ error, ...extra });
}

/** Ajv's first error → a contract error whose `path` names the bad field. */
export function validationError(v: AjvError, context: string): ContractError {
  let path = v.instancePath;
  let why = v.message ?? v.keyword;
  switch (v.keyword) {
    case 'additionalProperties':
      path += `/${String(v.params.additionalProperty)}`;
      why = 'unknown field';
      break;
    case 'required':
      path += `/${String(v.params.missingProperty)}`;
      why = 'required';
      break;
    case 'discriminator':
      path += `/${String(v.params.tag)}`;
      why =
        v.params.error === 'mapping'
          ? `not a command type: ${JSON.stringify(v.params.tagValue)}`
          : 'required (a command type)';
      break;
    default:
      break;
  }
  path ||= '/';
  if (context === 'body') return { code: 'BAD_REQUEST', message: `${path}: ${why}`, path };
  return { code: 'BAD_REQUEST', message: `${context} ${path.replace(/^\//, '')}: ${why}` };
}

export type { FastifyRequest };
