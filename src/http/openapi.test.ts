import { describe, expect, it } from 'vitest'

import { testApp } from '../../test/helpers/app.js'

import { lintOpenApi } from '../../scripts/lint-openapi.js'
import { VERSION } from '../version.js'

import { buildOpenApiDocument } from './openapi.js'

const setup = () => testApp().app

type Doc = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, unknown>; parameters?: { name: string }[] }>
  >
  components: Record<string, Record<string, unknown>>
}

/** Every `$ref` anywhere in the document. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out)
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v)
      else refsIn(v, out)
    }
  }
  return out
}

describe('GET /openapi.json', () => {
  it('describes every route the app serves (a new route without a description fails here)', () => {
    const app = setup()
    const doc = buildOpenApiDocument(VERSION) as Doc
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && r.method !== 'HEAD')
        // Hono writes `:service` where OpenAPI writes `{service}`.
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
    )
    const described = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m} ${path}`)
      )
    )
    expect([...served].sort()).toEqual([...described].sort())
  })

  it('resolves every $ref inside the document', () => {
    const doc = buildOpenApiDocument(VERSION) as Doc
    const refs = [...new Set(refsIn(doc))]
    expect(refs.length).toBeGreaterThan(10)
    for (const ref of refs) {
      expect(ref.startsWith('#/components/')).toBe(true)
      const [, , section, name] = ref.split('/')
      expect(doc.components[section ?? '']?.[name ?? ''], ref).toBeDefined()
    }
  })

  it('takes the shapes from the zod schemas: strict request bodies, closed answers, the error codes', () => {
    const doc = buildOpenApiDocument(VERSION) as Doc
    const schemas = doc.components['schemas'] as Record<string, Record<string, unknown>>
    expect(schemas['HeartbeatRequest']).toMatchObject({
      type: 'object',
      required: ['service'],
      additionalProperties: false,
    })
    const errorCodes = (schemas['Error']?.['properties'] as { error: { enum: string[] } }).error
    expect(errorCodes.enum).toContain('too_many_streams')
    expect(errorCodes.enum).toContain('too_many_instances')
    expect(schemas['Service']).toMatchObject({
      properties: { impactedBy: { type: 'array' }, since: { format: 'date-time' } },
    })
    // Query parameters come from the routes' own strict schemas.
    const params = doc.paths['/health']?.['get']?.parameters ?? []
    expect(params.map((p) => p.name)).toEqual(['statusCode', 'If-None-Match'])
  })

  it('gives every operation one JSON shape, and types parameters as the bridge parses them', () => {
    type Media = Record<string, { schema: Record<string, unknown> }>
    type Response = { content?: Media; $ref?: string }
    const doc = buildOpenApiDocument(VERSION) as Doc
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const responses = op.responses as Record<string, Response>
        // Within 2xx, and within the other answers: what a typed client sees as data / error.
        const success = Object.entries(responses).filter(([code]) => code.startsWith('2'))
        const schemas = new Set(success.map(([, r]) => JSON.stringify(r.content ?? null)))
        expect(schemas.size, `${method} ${path}: one 2xx shape`).toBeLessThanOrEqual(1)
        for (const [code, r] of success) {
          const types = Object.keys(r.content ?? {})
          expect(types.length, `${method} ${path} ${code}: one media type`).toBeLessThanOrEqual(1)
        }
      }
    }
    // Every error answer has a body: one without would put `undefined` into openapi-fetch's
    // error type, and `if (error) throw error` would no longer narrow `data`.
    const responses = doc.components['responses'] as Record<string, Response>
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [code, r] of Object.entries(op.responses as Record<string, Response>)) {
          // The probe's 408 (see health-paths.ts) is the one exception.
          if (!/^[45]/.test(code) || (path === '/health/live' && code === '408')) continue
          const resolved = r.$ref ? responses[r.$ref.split('/').at(-1) ?? ''] : r
          expect(resolved?.content, `${method} ${path} ${code} has a body`).toBeDefined()
        }
      }
    }
    const shapeOf = (path: string, code: string) =>
      (doc.paths[path]?.['get']?.responses[code] as Response).content?.['application/json']?.schema
    expect(shapeOf('/health', '200')).toEqual({ $ref: '#/components/schemas/HealthDocument' })
    expect(shapeOf('/health', '503')).toEqual({ $ref: '#/components/schemas/HealthDocument' })
    expect(shapeOf('/health/services/{service}', '200')).toEqual({
      $ref: '#/components/schemas/Service',
    })
    expect(shapeOf('/health/services/{service}/instances/{instance}', '200')).toEqual({
      $ref: '#/components/schemas/Instance',
    })
    const history = doc.paths['/health/history']?.['get']?.parameters as unknown as {
      name: string
      schema: Record<string, unknown>
    }[]
    expect(history.find((p) => p.name === 'limit')?.schema).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 1000,
    })
    // Both event types of the stream have a schema, and ?full=1 is described.
    const stream = doc.paths['/health/stream']?.['get']
    expect(stream?.parameters?.map((p) => p.name)).toContain('full')
    expect(JSON.stringify(stream)).toContain('#/components/schemas/HealthDelta')
  })

  it("passes Redocly's recommended rules with no problem at all, warnings included", async () => {
    const doc = buildOpenApiDocument(VERSION)
    expect(await lintOpenApi(doc)).toEqual({ errors: 0, warnings: 0, problems: [] })
    // The check can fail: the same document without its servers does.
    const { servers: _servers, ...broken } = doc
    expect((await lintOpenApi(broken)).problems.join('\n')).toMatch(/^no-empty-servers:/m)
  }, 30_000)

  it('is served as JSON, revalidatable', async () => {
    const app = setup()
    const res = await app.request('/openapi.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await res.json()) as { openapi: string; info: { version: string } }
    expect(body.openapi).toBe('3.1.0')
    expect(body.info.version).toBe(VERSION)
    const again = await app.request('/openapi.json', {
      headers: { 'if-none-match': res.headers.get('etag') ?? '' },
    })
    expect(again.status).toBe(304)
  })
})
