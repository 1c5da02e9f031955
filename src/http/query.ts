import type { Context } from 'hono'
import { z } from 'zod'

import { badRequest, issuesOf } from './errors.js'

/** For routes that take no parameters: any given is named in a 400. */
export const noQuerySchema = z.strictObject({})

/** Valid query strings remembered per schema; pollers repeat theirs, a scanner cannot grow it. */
const CACHE_SIZE = 256
const cache = new WeakMap<z.ZodType, Map<string, unknown>>()

/**
 * Validates the query string against a strict schema: unknown parameters are a 400 that names
 * them (a misspelt `?servce=` must not silently return everything), repeated ones too.
 * A query string that passed before is answered from a small cache: the parse is a pure
 * function of the string, and it was a large share of a small answer's cost.
 */
export function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  const url = c.req.url
  const q = url.indexOf('?')
  const raw = q === -1 ? '' : url.slice(q + 1)
  let known = cache.get(schema)
  const hit = known?.get(raw)
  if (hit !== undefined) return hit as z.output<T>
  const parsed = parseFresh(c, schema)
  if (!known) cache.set(schema, (known = new Map<string, unknown>()))
  if (known.size >= CACHE_SIZE) known.delete(known.keys().next().value as string)
  known.set(raw, Object.freeze(parsed))
  return parsed
}

function parseFresh<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  const all = c.req.queries()
  const flat: Record<string, string> = {}
  for (const [key, values] of Object.entries(all)) {
    if (values.length > 1)
      throw badRequest(`query parameter "${key}" is given ${values.length} times; give it once`)
    flat[key] = values[0] ?? ''
  }
  const parsed = schema.safeParse(flat)
  if (!parsed.success) {
    const issues = issuesOf(parsed.error).map((i) =>
      i.path === '(body)' ? { ...i, path: '(query)' } : i
    )
    throw badRequest(
      `invalid query: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues
    )
  }
  return parsed.data
}

/** Validates path parameters (`/health/services/:service`) the same way, naming each one. */
export function parseParams<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  const parsed = schema.safeParse(c.req.param())
  if (!parsed.success) {
    const issues = issuesOf(parsed.error)
    throw badRequest(
      `invalid path: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues
    )
  }
  return parsed.data
}
