import type { Context } from 'hono'
import { z } from 'zod'

import { badRequest, issuesOf } from './errors.js'

/** For routes that take no parameters: any given is named in a 400. */
export const noQuerySchema = z.strictObject({})

/**
 * Validates the query string against a strict schema: unknown parameters are a 400 that names
 * them (a misspelt `?servce=` must not silently return everything), repeated ones too.
 */
export function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
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
