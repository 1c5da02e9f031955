/**
 * `GET /openapi.json`: an OpenAPI 3.1 description of every endpoint, generated from the very zod
 * schemas the server validates requests and types responses with (`z.toJSONSchema`, JSON Schema
 * 2020-12, which is OpenAPI 3.1's dialect). Only the prose and the list of operations are
 * written here; a test checks that every route the app serves is in it, and that real answers
 * validate against it.
 */
import { Hono } from 'hono'
import { z } from 'zod'

import { errorBodySchema } from '../wire/error.js'
import {
  dockerPartSchema,
  dockerSourceSchema,
  healthDocumentSchema,
  heartbeatPartSchema,
  instanceSchema,
  jobSchema,
  readinessSchema,
  serviceSchema,
  transitionSchema,
} from '../wire/health-document.js'
import { heartbeatAcceptedSchema, heartbeatRequestSchema, statusSchema } from '../wire/heartbeat.js'

import { conditional, strongTagOf } from './conditional.js'
import { healthQuerySchema, historyQuerySchema } from './routes/health.js'
import { deleteQuerySchema } from './routes/heartbeat.js'
import { streamQuerySchema } from './routes/stream.js'

type JsonSchema = Record<string, unknown>
type Operation = Record<string, unknown>

/** `GET /health/live`'s answer: always this, while the process serves. */
export const liveSchema = z.object({ status: z.literal('healthy') })

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

/** Component schemas, named as a WebUI's generated types will name them. */
function componentSchemas(): Record<string, JsonSchema> {
  const out = z.registry<{ id: string }>()
  out.add(healthDocumentSchema, { id: 'HealthDocument' })
  out.add(serviceSchema, { id: 'Service' })
  out.add(instanceSchema, { id: 'Instance' })
  out.add(dockerPartSchema, { id: 'DockerPart' })
  out.add(heartbeatPartSchema, { id: 'HeartbeatPart' })
  out.add(jobSchema, { id: 'Job' })
  out.add(dockerSourceSchema, { id: 'DockerSource' })
  out.add(transitionSchema, { id: 'Transition' })
  out.add(readinessSchema, { id: 'Readiness' })
  out.add(heartbeatAcceptedSchema, { id: 'HeartbeatAccepted' })
  out.add(errorBodySchema, { id: 'Error' })
  out.add(statusSchema, { id: 'Status' })
  out.add(liveSchema, { id: 'Live' })
  // Requests are described as the server accepts them (before defaults and transforms).
  const inp = z.registry<{ id: string }>()
  inp.add(heartbeatRequestSchema, { id: 'HeartbeatRequest' })

  const uri = (id: string) => `#/components/schemas/${id}`
  const schemas: Record<string, JsonSchema> = {}
  for (const [registry, io] of [
    [out, 'output'],
    [inp, 'input'],
  ] as const) {
    const generated = z.toJSONSchema(registry, { io, uri, unrepresentable: 'throw' }).schemas
    for (const [id, schema] of Object.entries(generated)) {
      // Components are fragments of this document, not standalone schemas.
      const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema
      schemas[id] = rest
    }
  }
  return schemas
}

/** Query parameters, from the strict zod schema the route parses its query with. */
function queryParameters(
  schema: z.ZodType,
  descriptions: Record<string, string> = {}
): JsonSchema[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as {
    properties?: Record<string, JsonSchema>
    required?: string[]
  }
  return Object.entries(json.properties ?? {}).map(([name, prop]) => {
    const param: JsonSchema = {
      name,
      in: 'query',
      required: json.required?.includes(name) ?? false,
      schema: prop,
    }
    const description = descriptions[name]
    if (description !== undefined) param['description'] = description
    return param
  })
}

const json = (schema: JsonSchema) => ({ 'application/json': { schema } })
const text = (description: string) => ({
  'text/plain': { schema: { type: 'string', description } },
})

/** The error answers, one per code, all `{ error, message, issues? }`. */
const ERRORS: Record<string, string> = {
  BadRequest:
    'Invalid query or body (`invalid_request`); `issues` names each field and what is wrong.',
  Unauthorized:
    'A token is required and was missing or wrong (`unauthorized`); see `WWW-Authenticate`.',
  Forbidden:
    'The token (HEARTBEAT_TOKENS_FILE) or the sender address (CHECK_SENDER_ADDRESS) does not belong to the service named (`forbidden`).',
  NotFound: 'No such service, instance or route (`not_found`).',
  PayloadTooLarge:
    'The body is larger than MAX_BODY_BYTES, 16 KiB by default (`payload_too_large`).',
  UnsupportedMediaType: 'The body is not declared JSON (`unsupported_media_type`).',
  TooManyInstances: 'A new instance would pass MAX_INSTANCES (`too_many_instances`).',
  TooManyStreams:
    'MAX_STREAMS event streams are open (`too_many_streams`); poll `GET /health` instead.',
  InternalError: 'An unexpected failure (`internal_error`); the bridge log has the details.',
}
const err = (name: keyof typeof ERRORS) => ({ $ref: `#/components/responses/${name}` })

const etagHeader = {
  ETag: {
    description:
      'Weak; changes when what a status display draws changes, not when a heartbeat merely arrives. Send it back as `If-None-Match`.',
    schema: { type: 'string' },
  },
}
const ifNoneMatch = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  description: 'The last `ETag`: answered `304` without a body while it still matches.',
  schema: { type: 'string' },
}
const notModified = { description: 'Nothing a display draws has changed.', headers: etagHeader }
const readSecurity = [{}, { readToken: [] }]
const heartbeatSecurity = [{}, { heartbeatToken: [] }]

function operations(): Record<string, Record<string, Operation>> {
  const serviceOrDocument = {
    oneOf: [ref('HealthDocument'), ref('Service'), ref('Instance')],
  }
  const healthAnswer = (what: string) => ({
    description: what,
    headers: etagHeader,
    content: {
      ...json(serviceOrDocument),
      ...text(
        'With `format=text`: one line per service (`name status: message`), or the one line asked for.'
      ),
    },
  })
  return {
    '/health': {
      get: {
        operationId: 'getHealth',
        tags: ['health'],
        summary: 'The health of the whole stack, one service, or one instance',
        description:
          'Without `service`: the whole `HealthDocument`. With `service`: that `Service`; with `service` and `instance`: that `Instance` (any name it answers to: container id or 12+ character prefix, name, hostname). The HTTP status follows the status answered: healthy and degraded are 200, the rest 503.',
        security: readSecurity,
        parameters: [
          ...queryParameters(healthQuerySchema, {
            service: 'Answer for this service only.',
            instance: 'With `service`: answer for this instance only.',
            format: '`text`: one plain line per service, for `curl -f` and humans.',
          }),
          ifNoneMatch,
        ],
        responses: {
          '200': healthAnswer('Healthy or degraded.'),
          '304': notModified,
          '400': err('BadRequest'),
          '401': err('Unauthorized'),
          '404': err('NotFound'),
          '500': err('InternalError'),
          '503': healthAnswer('Starting, unknown or unhealthy (the body says why).'),
        },
      },
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
        parameters: queryParameters(deleteQuerySchema, {
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
    },
    '/health/live': {
      get: {
        operationId: 'getLive',
        tags: ['probes'],
        summary: 'Liveness: 200 while the process serves (never needs a token)',
        responses: { '200': { description: 'Alive.', content: json(ref('Live')) } },
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
        parameters: queryParameters(historyQuerySchema, {
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
    '/health/stream': {
      get: {
        operationId: 'streamHealth',
        tags: ['health'],
        summary: 'Server-Sent Events: the document now, then on every change',
        description:
          'Each `health` event carries a whole `HealthDocument` as `data` and its ETag as `id`: first the current one, then one per change (status flips included, also those a deadline causes). Comments keep the connection alive every 15 s; `retry:` says when to reconnect. Reconnect with `Last-Event-ID` and an unchanged document is not sent again. At most MAX_STREAMS streams are open at once.',
        security: readSecurity,
        parameters: [
          ...queryParameters(streamQuerySchema),
          {
            name: 'Last-Event-ID',
            in: 'header',
            required: false,
            description: 'The `id` of the last event received.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'An endless `text/event-stream`.',
            content: {
              'text/event-stream': {
                schema: {
                  type: 'string',
                  description:
                    'Events `health` whose `data` is a HealthDocument (see components/schemas/HealthDocument).',
                },
              },
            },
          },
          '400': err('BadRequest'),
          '401': err('Unauthorized'),
          '429': err('TooManyStreams'),
          '500': err('InternalError'),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        tags: ['probes'],
        summary: 'Prometheus metrics (text exposition format)',
        security: readSecurity,
        responses: {
          '200': {
            description: 'Metrics.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          '401': err('Unauthorized'),
          '500': err('InternalError'),
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApi',
        tags: ['meta'],
        summary: 'This description (never needs a token)',
        responses: {
          '200': { description: 'OpenAPI 3.1.', content: json({ type: 'object' }) },
          '304': { description: 'Unchanged.' },
        },
      },
    },
    '/': {
      get: {
        operationId: 'getStatusPage',
        tags: ['status page'],
        summary: 'The status page (HTML; live when JavaScript runs)',
        security: readSecurity,
        responses: {
          '200': {
            description: 'The page.',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          '400': err('BadRequest'),
          '401': err('Unauthorized'),
          '500': err('InternalError'),
        },
      },
    },
    '/page/fragment': {
      get: {
        operationId: 'getStatusPageFragment',
        tags: ['status page'],
        summary: "The status page's live part, which its script swaps in on every change",
        security: readSecurity,
        parameters: [ifNoneMatch],
        responses: {
          '200': {
            description: 'An HTML fragment.',
            headers: etagHeader,
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          '304': { description: 'Unchanged.' },
          '400': err('BadRequest'),
          '401': err('Unauthorized'),
          '500': err('InternalError'),
        },
      },
    },
    '/assets/page.js': {
      get: {
        operationId: 'getStatusPageScript',
        tags: ['status page'],
        summary: "The status page's script",
        security: readSecurity,
        responses: {
          '200': {
            description: 'JavaScript.',
            content: { 'text/javascript': { schema: { type: 'string' } } },
          },
          '304': { description: 'Unchanged.' },
          '401': err('Unauthorized'),
        },
      },
    },
    '/assets/page.css': {
      get: {
        operationId: 'getStatusPageStyle',
        tags: ['status page'],
        summary: "The status page's stylesheet",
        security: readSecurity,
        responses: {
          '200': { description: 'CSS.', content: { 'text/css': { schema: { type: 'string' } } } },
          '304': { description: 'Unchanged.' },
          '401': err('Unauthorized'),
        },
      },
    },
  }
}

export function buildOpenApiDocument(version: string): Record<string, unknown> {
  const responses: Record<string, unknown> = {}
  for (const [name, description] of Object.entries(ERRORS)) {
    responses[name] = { description, content: json(ref('Error')) }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'health-bridge',
      version,
      description:
        "One compose service that tells the truth about a Docker Compose stack's health over HTTP: Docker container state and health, pushed heartbeats and one-shot jobs, merged per service.",
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [
      { name: 'health', description: 'Reading the health of the stack.' },
      { name: 'heartbeats', description: 'Services reporting their own health.' },
      { name: 'probes', description: "The bridge's own liveness, readiness and metrics." },
      { name: 'status page', description: 'The built-in HTML status page.' },
      { name: 'meta', description: 'This description.' },
    ],
    paths: operations(),
    components: {
      schemas: componentSchemas(),
      responses,
      securitySchemes: {
        readToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'READ_TOKEN, when set (HTTP Basic auth with the token as password works too, for browsers).',
        },
        heartbeatToken: {
          type: 'http',
          scheme: 'bearer',
          description: "HEARTBEAT_TOKEN, or the service's own token from HEARTBEAT_TOKENS_FILE.",
        },
      },
    },
  }
}

export function openapiRoutes(deps: { version: string }): Hono {
  const body = JSON.stringify(buildOpenApiDocument(deps.version))
  // The same bytes for as long as the process runs: a strong tag.
  const etag = strongTagOf(body)
  const app = new Hono()
  app.get('/openapi.json', (c) =>
    conditional(c, { etag, type: 'application/json; charset=utf-8', body })
  )
  return app
}
