/**
 * What CLP's WebUI does with GET /openapi.json: generate types with openapi-typescript, then
 * compile code that uses them. The consumer must type-check, and misuse must not (so the types
 * are real, not `unknown` or `any`).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

import { buildOpenApiDocument } from '../../src/http/openapi.js'

const OUT = join(import.meta.dirname, '../../test-output/openapi-typescript')

const CONSUMER = `
import type { components, paths } from './schema.js'

type HealthDocument = components['schemas']['HealthDocument']
type Service = components['schemas']['Service']
type Polled = paths['/health']['get']['responses'][200]['content']['application/json']
type Heartbeat = paths['/health']['post']['requestBody']['content']['application/json']
type Accepted = paths['/health']['post']['responses'][202]['content']['application/json']
type ApiError = components['schemas']['Error']
type Query = NonNullable<paths['/health']['get']['parameters']['query']>

export function worst(doc: HealthDocument): Service | undefined {
  return doc.services.find((s) => s.status === 'unhealthy' && s.impactedBy.length === 0)
}
export function rootCauseOf(s: Service): string {
  return s.impactedBy[0] ?? s.name
}
// One shape: the whole document, never a Service, an Instance or text.
export const label = (answer: Polled): string => \`\${answer.status}: \${answer.services.length}\`
export const beat: Heartbeat = { service: 'query-scheduler', error: 'failed to connect to database' }
export const accepted = (a: Accepted): number => a.timeoutSeconds
export const isStreamCap = (e: ApiError): boolean => e.error === 'too_many_streams'
export const query: Query = { statusCode: '200' }
export const since = (s: Service): Date => new Date(s.since)
export const flapping = (s: Service): boolean => s.flapping
`

const MISUSE = `
import type { components, paths } from './schema.js'
type Service = components['schemas']['Service']
type Heartbeat = paths['/health']['post']['requestBody']['content']['application/json']
type Query = NonNullable<paths['/health']['get']['parameters']['query']>

export const a: Service['status'] = 'fine'
export const b: Heartbeat = { service: 'x', eror: 'typo' }
export const c: Heartbeat = { instance: 'no-service' }
export const d = (s: Service): number => s.impactedBy
export const e: Query = { format: 'yaml' }
export const f: paths['/health']['get']['responses'][200]['content']['application/json'] = 'text'
`

function compile(files: string[]): readonly ts.Diagnostic[] {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
  })
  return ts.getPreEmitDiagnostics(program)
}

const messages = (diagnostics: readonly ts.Diagnostic[]) =>
  diagnostics.map((d) => {
    const where = d.file
      ? `${d.file.fileName.split('/').at(-1) ?? ''}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : ''
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })

describe('openapi-typescript, as CLP WebUI runs it', () => {
  it('generates types that a consumer compiles against, and that reject misuse', async () => {
    const doc = buildOpenApiDocument('test')
    const schema = astToString(await openapiTS(doc as unknown as OpenAPI3))
    mkdirSync(OUT, { recursive: true })
    writeFileSync(join(OUT, 'package.json'), '{ "type": "module" }\n')
    writeFileSync(join(OUT, 'schema.d.ts'), schema)
    writeFileSync(join(OUT, 'consumer.ts'), CONSUMER)
    writeFileSync(join(OUT, 'misuse.ts'), MISUSE)

    expect(schema).toContain('HealthDocument')
    expect(messages(compile([join(OUT, 'consumer.ts')]))).toEqual([])

    // Each line of the misuse file is an error: the types say what the bridge accepts.
    const errors = compile([join(OUT, 'misuse.ts')])
    const lines = new Set(
      errors.map((d) => (d.file ? d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1 : 0))
    )
    expect(
      [...lines].sort((x, y) => x - y),
      messages(errors).join('\n')
    ).toEqual([7, 8, 9, 10, 11, 12])
  })
})
