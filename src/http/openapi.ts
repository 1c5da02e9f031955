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
  bridgeSchema,
  dockerPartSchema,
  dockerSourceSchema,
  healthDeltaSchema,
  healthDocumentSchema,
  heartbeatPartSchema,
  instanceSchema,
  jobSchema,
  peerSourceSchema,
  readinessSchema,
  serviceSchema,
  transitionSchema,
} from '../wire/health-document.js'
import { heartbeatAcceptedSchema, heartbeatRequestSchema, statusSchema } from '../wire/heartbeat.js'

import { conditional, strongTagOf } from './conditional.js'
import { healthPaths } from './openapi/health-paths.js'
import { otherPaths } from './openapi/other-paths.js'
import { ERRORS, json, ref, type JsonSchema } from './openapi/parts.js'
import { streamPath } from './openapi/stream-path.js'
import { noQuerySchema, parseQuery } from './query.js'

/** `GET /health/live`'s answer: always this, while the process serves. */
export const liveSchema = z.object({ status: z.literal('healthy') })

/** Component schemas, named as a WebUI's generated types will name them. */
function componentSchemas(): Record<string, JsonSchema> {
  const out = z.registry<{ id: string }>()
  out.add(healthDocumentSchema, { id: 'HealthDocument' })
  out.add(healthDeltaSchema, { id: 'HealthDelta' })
  out.add(bridgeSchema, { id: 'Bridge' })
  out.add(peerSourceSchema, { id: 'PeerSource' })
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
    // Relative to where this document is served, so it stays right behind a proxy's sub-path.
    servers: [{ url: '.', description: 'The bridge that serves this document.' }],
    paths: { ...healthPaths(), ...streamPath(), ...otherPaths() },
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
  app.get('/openapi.json', (c) => {
    if (c.req.url.includes('?')) parseQuery(c, noQuerySchema)
    return conditional(c, { etag, type: 'application/json; charset=utf-8', body })
  })
  return app
}
