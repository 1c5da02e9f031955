import { z } from 'zod'

import { LIMITS } from '../config/config.js'
import { instanceNameSchema, serviceNameSchema } from '../config/names.js'
import { STATUSES } from '../model/status.js'

function depthOf(value: unknown, depth = 0): number {
  if (value === null || typeof value !== 'object') return depth
  let max = depth + 1
  for (const v of Object.values(value)) max = Math.max(max, depthOf(v, depth + 1))
  return max
}

const isoWithZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/

/** `POST /health` body. Unknown keys are refused: a misspelt `eror` must not read as healthy. */
export const heartbeatRequestSchema = z.strictObject({
  service: serviceNameSchema.describe('The reporting service, as named in the compose file.'),
  instance: instanceNameSchema
    .optional()
    .describe(
      'Which replica: its container id (or 12+ character prefix), name or hostname; default "default".'
    ),
  status: z
    .enum(['healthy', 'unhealthy', 'succeeded', 'failed'], {
      error: 'must be one of healthy, unhealthy, succeeded, failed',
    })
    .optional()
    .describe('succeeded/failed: a job reporting its end (terminal: never goes stale).'),
  error: z
    .string({ error: 'must be a string or null' })
    .min(1, 'must not be empty; omit it or send null when there is no error')
    .max(LIMITS.errorChars, `must be at most ${LIMITS.errorChars} characters`)
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
    .refine(
      (d) => Buffer.byteLength(JSON.stringify(d)) <= LIMITS.detailsBytes,
      `must be at most ${LIMITS.detailsBytes} bytes when serialized`
    )
    .refine(
      (d) => depthOf(d) <= LIMITS.detailsDepth,
      `must be nested at most ${LIMITS.detailsDepth} levels deep`
    )
    .optional()
    .describe('Free-form facts shown with the instance (queue depth, version, ...).'),
})
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
