/**
 * The building blocks of `GET /openapi.json`'s operations: parameters derived from the routes'
 * own zod schemas, the shared error answers, and the ETag headers.
 */
import { z } from 'zod'

export type JsonSchema = Record<string, unknown>
export type Operation = Record<string, unknown>
export type PathItem = Record<string, Operation>

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
export const json = (schema: JsonSchema) => ({ 'application/json': { schema } })

/**
 * Query or path parameters, from the strict zod schema the route parses them with. They are
 * described as what they are once parsed (`limit` is an integer, not "a string of digits"):
 * OpenAPI's parameter styles say how such a value is written into a URL.
 */
export function parameters(
  where: 'query' | 'path',
  schema: z.ZodType,
  descriptions: Record<string, string> = {}
): JsonSchema[] {
  const generated = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'throw' }) as {
    properties?: Record<string, JsonSchema>
    required?: string[]
  }
  return Object.entries(generated.properties ?? {}).map(([name, prop]) => {
    const param: JsonSchema = {
      name,
      in: where,
      required: where === 'path' || (generated.required?.includes(name) ?? false),
      schema: prop,
    }
    const description = descriptions[name]
    if (description !== undefined) param['description'] = description
    return param
  })
}

/** The error answers, one per code, all `{ error, message, issues? }`. */
export const ERRORS: Record<string, string> = {
  BadRequest:
    'Invalid query, path or body (`invalid_request`); `issues` names each field and what is wrong.',
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
export const err = (name: keyof typeof ERRORS) => ({ $ref: `#/components/responses/${name}` })

export const etagHeader = {
  ETag: {
    description:
      'Weak; changes when what a status display draws changes, not when a heartbeat merely arrives. Send it back as `If-None-Match`.',
    schema: { type: 'string' },
  },
}
export const ifNoneMatch = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  description:
    'The last `ETag`: answered `304` without a body while it still matches. Browsers revalidate by themselves (the answers say `Cache-Control: no-cache`) and hand script the cached `200`; send it yourself only outside a browser.',
  schema: { type: 'string' },
}
export const notModified = {
  description: 'Nothing a display draws has changed (no body).',
  headers: etagHeader,
}
export const readSecurity = [{}, { readToken: [] }]
export const heartbeatSecurity = [{}, { heartbeatToken: [] }]
/** Operations that never need a token say so explicitly. */
export const noSecurity: never[] = []
