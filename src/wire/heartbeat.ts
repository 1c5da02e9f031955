import { z } from 'zod'

import { LIMITS, type Limits } from './limits.js'
import { instanceNameSchema, serviceNameSchema } from './names.js'
import { REPORTED_STATUSES } from '../model/observations.js'
import { STATUSES } from '../model/status.js'

/**
 * Whether `value` nests more than `limit` levels of objects/arrays. Stops descending at the
 * limit, so a 16 KiB body of `[[[[...` costs `limit` frames, not a stack overflow.
 */
function deeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false
  if (limit <= 0) return true
  for (const v of Object.values(value)) if (deeperThan(v, limit - 1)) return true
  return false
}

const isoWithZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/

/**
 * `POST /health` body, for the configured limits. Unknown keys are refused: a misspelt `eror`
 * must not read as healthy.
 */
export function heartbeatRequestSchemaFor(
  limits: Pick<Limits, 'errorChars' | 'detailsBytes' | 'detailsDepth'>
) {
  return z.strictObject({
    service: serviceNameSchema.describe('The reporting service, as named in the compose file.'),
    instance: instanceNameSchema
      .optional()
      .describe(
        'Which replica: its container id (or 12+ character prefix), name or hostname; default "default".'
      ),
    status: z
      .enum(REPORTED_STATUSES, { error: `must be one of ${REPORTED_STATUSES.join(', ')}` })
      .optional()
      .describe('succeeded/failed: a job reporting its end (terminal: never goes stale).'),
    error: z
      .string({ error: 'must be a string or null' })
      .min(1, 'must not be empty; omit it or send null when there is no error')
      .max(limits.errorChars, `must be at most ${limits.errorChars} characters`)
      .nullable()
      .optional()
      .describe('What is wrong; implies unhealthy.'),
    timestamp: z
      .union(
        [
          z
            .string()
            .regex(isoWithZone, 'must be ISO-8601 with a time zone, e.g. 2026-11-21T10:00:00Z')
            .refine((s) => Number.isFinite(Date.parse(s)), 'is not a valid date'),
          z.number().nonnegative().max(8.64e15),
        ],
        { error: 'must be an ISO-8601 string with a time zone or epoch milliseconds' }
      )
      .optional()
      .describe(
        'Sender clock; only used to report clockSkewSeconds. Bridge receive time is authoritative.'
      ),
    details: z
      .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
      .superRefine((d, ctx) => {
        // Depth first: serializing a deeply nested value would overflow the stack.
        if (deeperThan(d, limits.detailsDepth)) {
          ctx.addIssue({
            code: 'custom',
            message: `must be nested at most ${limits.detailsDepth} levels deep`,
          })
        } else if (Buffer.byteLength(JSON.stringify(d)) > limits.detailsBytes) {
          ctx.addIssue({
            code: 'custom',
            message: `must be at most ${limits.detailsBytes} bytes when serialized`,
          })
        }
      })
      .optional()
      .describe('Free-form facts shown with the instance (queue depth, version, ...).'),
  })
}

/** The schema with the default limits (documentation, OpenAPI). */
export const heartbeatRequestSchema = heartbeatRequestSchemaFor(LIMITS)
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>

export const statusSchema = z.enum(STATUSES)

/** `202` answer to a heartbeat. */
export const heartbeatAcceptedSchema = z.object({
  service: z.string(),
  instance: z.string(),
  status: statusSchema,
  receivedAt: z.iso.datetime(),
  timeoutSeconds: z.number(),
})
export type HeartbeatAccepted = z.infer<typeof heartbeatAcceptedSchema>
