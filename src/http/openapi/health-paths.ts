/**
 * The health operations. One JSON shape per operation: the whole document at `/health`, one
 * service and one instance at their typed paths. The orchestrators' query form
 * (`/health?service=X[&instance=Y][&format=text]`) is served at `/health` too, but is described
 * in prose only: an operation's answer cannot depend on its query in OpenAPI, and listing those
 * parameters would give typed clients a `HealthDocument | Service | Instance | string` answer.
 */
import { deleteQuerySchema } from '../routes/heartbeat.js'
import {
  historyQuerySchema,
  instancePathSchema,
  servicePathSchema,
  typedQuerySchema,
} from '../routes/health.js'

import {
  err,
  etagHeader,
  heartbeatSecurity,
  ifNoneMatch,
  json,
  noSecurity,
  notModified,
  parameters,
  readSecurity,
  ref,
  type PathItem,
} from './parts.js'

const STATUS_CODE =
  '`200`: answer 200 whatever the status (it is in the body), for clients such as openapi-fetch that treat every other answer as an error. Errors (400, 404) stay errors. Default `health`: 200 when healthy or degraded, else 503.'

const HTTP_STATUS =
  'The HTTP status follows the status answered: healthy and degraded are 200, starting, unknown and unhealthy 503 with the same body, unless `statusCode=200`.'

/** 200 and 503 carry the same schema: the status code is a summary of the body. */
function healthAnswers(schema: string, what: string) {
  const answer = (description: string) => ({
    description,
    headers: etagHeader,
    content: json(ref(schema)),
  })
  return {
    '200': answer(`${what}: healthy or degraded (or anything, with \`statusCode=200\`).`),
    '304': notModified,
    '400': err('BadRequest'),
    '401': err('Unauthorized'),
    '500': err('InternalError'),
    '503': answer(`${what}: starting, unknown or unhealthy (the body says why).`),
  }
}

const statusCode = parameters('query', typedQuerySchema, { statusCode: STATUS_CODE })

function getHealth() {
  return {
    operationId: 'getHealth',
    tags: ['health'],
    summary: 'The health of the whole stack',
    description: [
      `The whole \`HealthDocument\`. ${HTTP_STATUS}`,
      'The query form that compose healthchecks and other orchestrators use is served here too: `?service=X` answers what `GET /health/services/{service}` answers, `?service=X&instance=Y` what `GET /health/services/{service}/instances/{instance}` answers, and `&format=text` one plain line instead (`query-scheduler unhealthy: no heartbeat for more than 30s`, for `curl -f` and humans; `?format=text` alone gives one line per service). Typed clients use the typed paths, which have one shape each.',
    ].join('\n\n'),
    security: readSecurity,
    parameters: [...statusCode, ifNoneMatch],
    responses: healthAnswers('HealthDocument', 'The whole document'),
  }
}

const heartbeatOperations = {
  post: {
    operationId: 'postHeartbeat',
    tags: ['heartbeats'],
    summary: 'Report a heartbeat',
    description:
      'A service reports that it is alive (or what is wrong). Silence longer than its timeout makes the instance unhealthy.',
    security: heartbeatSecurity,
    requestBody: { required: true, content: json(ref('HeartbeatRequest')) },
    responses: {
      '202': { description: 'Recorded.', content: json(ref('HeartbeatAccepted')) },
      '400': err('BadRequest'),
      '401': err('Unauthorized'),
      '403': err('Forbidden'),
      '413': err('PayloadTooLarge'),
      '415': err('UnsupportedMediaType'),
      '429': err('TooManyInstances'),
      '500': err('InternalError'),
    },
  },
  delete: {
    operationId: 'deleteHeartbeat',
    tags: ['heartbeats'],
    summary: 'Deregister a heartbeat instance (on graceful shutdown)',
    security: heartbeatSecurity,
    parameters: parameters('query', deleteQuerySchema, {
      service: 'The service that reported.',
      instance: 'Which instance; default `default`.',
    }),
    responses: {
      '204': { description: 'Deregistered.' },
      '400': err('BadRequest'),
      '401': err('Unauthorized'),
      '403': err('Forbidden'),
      '404': err('NotFound'),
      '500': err('InternalError'),
    },
  },
}

export function healthPaths(): Record<string, PathItem> {
  const withNotFound = (answers: ReturnType<typeof healthAnswers>) => ({
    ...answers,
    '404': err('NotFound'),
  })
  return {
    '/health': { get: getHealth(), ...heartbeatOperations },
    '/health/services/{service}': {
      get: {
        operationId: 'getServiceHealth',
        tags: ['health'],
        summary: 'One service',
        description: `The \`Service\` as it appears in the document (the same answer as \`GET /health?service=X\`). ${HTTP_STATUS}`,
        security: readSecurity,
        parameters: [
          ...parameters('path', servicePathSchema, { service: 'The compose service name.' }),
          ...statusCode,
          ifNoneMatch,
        ],
        responses: withNotFound(healthAnswers('Service', 'The service')),
      },
    },
    '/health/services/{service}/instances/{instance}': {
      get: {
        operationId: 'getInstanceHealth',
        tags: ['health'],
        summary: 'One instance of a service',
        description: `The \`Instance\` (the same answer as \`GET /health?service=X&instance=Y\`). ${HTTP_STATUS}`,
        security: readSecurity,
        parameters: [
          ...parameters('path', instancePathSchema, {
            service: 'The compose service name.',
            instance:
              'Any name the instance answers to: its id, container id or 12+ character prefix, container name, or hostname.',
          }),
          ...statusCode,
          ifNoneMatch,
        ],
        responses: withNotFound(healthAnswers('Instance', 'The instance')),
      },
    },
    '/health/live': {
      get: {
        operationId: 'getLive',
        tags: ['probes'],
        summary: 'Liveness: 200 while the process serves (never needs a token)',
        security: noSecurity,
        responses: {
          '200': { description: 'Alive.', content: json(ref('Live')) },
          // Its only failure that is not "the process is gone". Without a body, which would put
          // `undefined` into a typed client's error type; nobody reads a probe's error.
          '408': {
            description:
              'The request did not arrive within HEADERS_TIMEOUT or REQUEST_TIMEOUT: the HTTP server answers this itself (as it does on every path), without a body, and closes the connection.',
          },
        },
      },
    },
    '/health/ready': {
      get: {
        operationId: 'getReady',
        tags: ['probes'],
        summary: 'Readiness: 200 once every enabled source has synced',
        security: readSecurity,
        responses: {
          '200': { description: 'Ready.', content: json(ref('Readiness')) },
          '401': err('Unauthorized'),
          '500': err('InternalError'),
          '503': { description: 'Not ready yet.', content: json(ref('Readiness')) },
        },
      },
    },
    '/health/history': {
      get: {
        operationId: 'getHistory',
        tags: ['health'],
        summary: 'Recent status transitions, newest first (bounded in memory)',
        security: readSecurity,
        parameters: parameters('query', historyQuerySchema, {
          service: 'Only this service (and its instances).',
          limit: 'At most this many entries.',
        }),
        responses: {
          '200': {
            description: 'Newest first.',
            content: json({ type: 'array', items: ref('Transition') }),
          },
          '400': err('BadRequest'),
          '401': err('Unauthorized'),
          '404': err('NotFound'),
          '500': err('InternalError'),
        },
      },
    },
  }
}
