import { z } from 'zod'

/** The one JSON error shape of every 4xx/5xx answer. */
export const errorBodySchema = z.object({
  error: z.enum([
    'invalid_request',
    'unauthorized',
    'forbidden',
    'not_found',
    'method_not_allowed',
    'payload_too_large',
    'unsupported_media_type',
    'too_many_instances',
    'too_many_streams',
    'internal_error',
  ]),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
})
export type ErrorBody = z.infer<typeof errorBodySchema>
export type ErrorCode = ErrorBody['error']

/**
 * Formats a zod path the way people read it, in a YAML file or a JSON body alike:
 * `services.query-scheduler.heartbeatTimeout`, `details[2]`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('')
}
