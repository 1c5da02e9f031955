import { readFileSync } from 'node:fs'

import { parseDocument } from 'yaml'
import { z } from 'zod'

import { SERVICE_KINDS } from '../model/settings.js'

import { durationSchema } from './duration.js'
import { formatPath } from '../wire/error.js'
import { serviceNameSchema } from '../wire/names.js'

/** Per-service settings from CONFIG_FILE. Where a label and the file disagree, the file wins. */
export const serviceConfigSchema = z.strictObject({
  role: z.enum(SERVICE_KINDS, { error: 'must be "service" or "job"' }).optional(),
  critical: z.boolean({ error: 'must be true or false' }).optional(),
  heartbeat: z.boolean({ error: 'must be true or false' }).optional(),
  heartbeatTimeout: durationSchema({ min: 100 }).optional(),
  jobTimeout: durationSchema({ min: 1000 }).optional(),
  dependsOn: z.array(serviceNameSchema).optional(),
  ignore: z.boolean({ error: 'must be true or false' }).optional(),
  optional: z.boolean({ error: 'must be true or false' }).optional(),
})

export const configFileSchema = z.strictObject({
  services: z
    .record(serviceNameSchema, serviceConfigSchema.nullable())
    .optional()
    .transform((services) => {
      const out: Record<string, ServiceConfig> = {}
      for (const [name, settings] of Object.entries(services ?? {})) out[name] = settings ?? {}
      return out
    }),
})

export type ServiceConfig = z.output<typeof serviceConfigSchema>
export type ServiceConfigs = Readonly<Record<string, ServiceConfig>>

export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError'
}

/** Parses the text of a CONFIG_FILE; errors name the file and the path inside it. */
export function parseConfigFile(text: string, file: string): ServiceConfigs {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  const yamlError = doc.errors[0]
  if (yamlError) {
    const pos = yamlError.linePos?.[0]
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file
    throw new ConfigFileError(
      `${where}: not valid YAML: ${(yamlError.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`
    )
  }
  let raw: unknown
  try {
    // Throws for an alias without its anchor, or one that expands too far (alias bombs).
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {}
  } catch (err) {
    throw new ConfigFileError(
      `${file}: not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}`
    )
  }
  const parsed = configFileSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue ? formatPath(issue.path) : ''
    throw new ConfigFileError(
      `${file}: ${path === '' ? '' : `${path}: `}${issue?.message ?? 'invalid'}`
    )
  }
  return parsed.data.services
}

export function loadConfigFile(file: string): ServiceConfigs {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new ConfigFileError(`${file}: cannot read (${code})`)
  }
  return parseConfigFile(text, file)
}
