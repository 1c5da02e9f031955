/**
 * HEARTBEAT_TOKENS_FILE: which bearer token may speak for which service, so one compromised
 * service cannot report for another. YAML (and so JSON) mapping `service: token`, or
 * `service: [old, new]` while a token is being rotated.
 *
 * Every error names the file and the line, never a token: these messages reach the terminal
 * and the logs, and a token that is wrong in one way is often right in another.
 */
import { readFileSync } from 'node:fs'

import { LineCounter, isMap, isScalar, parseDocument } from 'yaml'

import { SERVICE_NAME_PATTERN } from '../wire/names.js'

/** Service name -> the tokens accepted for its heartbeats (one, or a few during a rotation). */
export type ServiceTokens = ReadonlyMap<string, readonly string[]>

export const TOKEN_RULES = {
  minChars: 16,
  maxChars: 512,
  /** A service may list this many tokens at once (old and new during a rotation). */
  maxPerService: 8,
  /** Printable ASCII without spaces: what fits in `Authorization: Bearer <token>` unquoted. */
  pattern: /^[\x21-\x7e]+$/,
} as const

export class TokensFileError extends Error {
  override readonly name = 'TokensFileError'
}

/** Why `token` cannot be used, or null when it can. Never quotes the token. */
export function tokenProblem(token: string): string | null {
  if (token.length < TOKEN_RULES.minChars) {
    return `must be at least ${TOKEN_RULES.minChars} characters (use e.g. \`openssl rand -hex 24\`)`
  }
  if (token.length > TOKEN_RULES.maxChars)
    return `must be at most ${TOKEN_RULES.maxChars} characters`
  if (!TOKEN_RULES.pattern.test(token)) return 'must be printable ASCII without spaces'
  return null
}

/** Parses the text of a tokens file. Throws only TokensFileError. */
export function parseTokensFile(text: string, file: string): ServiceTokens {
  const lines = new LineCounter()
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines })
  const at = (offset: number | undefined) => {
    if (offset === undefined) return file
    const pos = lines.linePos(offset)
    return `${file}:${pos.line}`
  }
  const yamlError = doc.errors[0]
  if (yamlError) {
    // The code, not the message: some yaml messages quote the text around the error.
    throw new TokensFileError(`${at(yamlError.pos[0])}: not valid YAML (${yamlError.code})`)
  }
  let raw: unknown
  try {
    raw = doc.toJS({ maxAliasCount: 100 })
  } catch (err) {
    throw new TokensFileError(`${file}: cannot be read as YAML (${(err as Error).name})`)
  }
  const expected = `the file must map service names to tokens, e.g. \`query-scheduler: <token>\``
  if (raw === null || raw === undefined) throw new TokensFileError(`${file}: is empty; ${expected}`)
  if (typeof raw !== 'object' || Array.isArray(raw) || !isMap(doc.contents)) {
    throw new TokensFileError(`${file}: ${expected}`)
  }
  const pairs = doc.contents.items
  if (pairs.length === 0) throw new TokensFileError(`${file}: lists no services; ${expected}`)
  const values = raw as Record<string, unknown>

  const tokens = new Map<string, readonly string[]>()
  const owner = new Map<string, string>()
  for (const pair of pairs) {
    const key = isScalar(pair.key) ? pair.key : null
    const where = at(key?.range[0])
    const service = key !== null && typeof key.value === 'string' ? key.value : null
    if (
      service === null ||
      !SERVICE_NAME_PATTERN.test(service) ||
      !Object.hasOwn(values, service)
    ) {
      // Not echoed: a key that is not a service name may well be a token pasted in the wrong place.
      throw new TokensFileError(
        `${where}: a key is not a service name (1-64 characters: letters, digits, "_", "." or "-", starting with a letter or digit); ${expected}`
      )
    }
    const value = values[service]
    const list: unknown[] = Array.isArray(value) ? value : [value]
    if (list.length === 0 || list.length > TOKEN_RULES.maxPerService) {
      throw new TokensFileError(
        `${where}: service "${service}" must have one token, or a list of 1 to ${TOKEN_RULES.maxPerService} while rotating`
      )
    }
    const own: string[] = []
    for (const token of list) {
      if (typeof token !== 'string') {
        throw new TokensFileError(
          `${where}: the token of service "${service}" must be a string (quote it if YAML reads it as a number or date)`
        )
      }
      const problem = tokenProblem(token)
      if (problem !== null) {
        throw new TokensFileError(`${where}: the token of service "${service}" ${problem}`)
      }
      const other = owner.get(token)
      if (other !== undefined && other !== service) {
        throw new TokensFileError(
          `${where}: services "${other}" and "${service}" have the same token; give each service its own, or one could speak for the other`
        )
      }
      owner.set(token, service)
      if (!own.includes(token)) own.push(token)
    }
    tokens.set(service, own)
  }
  return tokens
}

export function loadTokensFile(file: string): ServiceTokens {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new TokensFileError(`${file}: cannot read (${code})`)
  }
  return parseTokensFile(text, file)
}
