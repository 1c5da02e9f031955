import { z } from 'zod'

/** Service names: what docs/api.md allows in a heartbeat, and what compose allows anyway. */
export const SERVICE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
export const INSTANCE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

export const serviceNameSchema = z
  .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
  .regex(
    SERVICE_NAME_PATTERN,
    'must be 1-64 characters: letters, digits, "_", "." or "-", starting with a letter or digit'
  )

export const instanceNameSchema = z
  .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
  .regex(
    INSTANCE_NAME_PATTERN,
    'must be 1-128 characters: letters, digits, "_", "." or "-", starting with a letter or digit'
  )

/**
 * An instance as `GET /health?service=X&instance=Y` names it: any instance name, or on a hub an
 * id qualified with its host (`clp-query-worker-1@worker-2`).
 */
export const INSTANCE_REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}(@[A-Za-z0-9_.-]{1,64})*$/

export const instanceRefSchema = z
  .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
  .regex(
    INSTANCE_REF_PATTERN,
    'must be an instance name (1-128 characters: letters, digits, "_", "." or "-"), optionally followed by @host'
  )
