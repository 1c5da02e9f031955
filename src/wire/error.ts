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
