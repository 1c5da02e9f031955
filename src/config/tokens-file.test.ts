import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { ConfigError, loadConfig } from './config.js'
import { TokensFileError, parseTokensFile } from './tokens-file.js'

const A = 'token-of-service-a-0001'
const B = 'token-of-service-b-0002'
const SECRET = 'canary-secret-token-xyz-123456'

function parseError(text: string): string {
  try {
    parseTokensFile(text, 'tokens.yaml')
  } catch (err) {
    expect(err).toBeInstanceOf(TokensFileError)
    return (err as Error).message
  }
  throw new Error('expected the file to be refused')
}

describe('HEARTBEAT_TOKENS_FILE content', () => {
  it('maps services to tokens, in YAML or JSON, with a list while rotating', () => {
    const yaml = parseTokensFile(`a: ${A}\nb: [${B}, "${SECRET}"]\n`, 'tokens.yaml')
    expect([...yaml]).toEqual([
      ['a', [A]],
      ['b', [B, SECRET]],
    ])
    const json = parseTokensFile(JSON.stringify({ a: A, '123': B }), 'tokens.json')
    expect(json.get('a')).toEqual([A])
    expect(json.get('123')).toEqual([B])
  })

  it.each<[string, string, RegExp]>([
    ['empty', '', /tokens\.yaml: is empty/],
    ['no services', '{}\n', /lists no services/],
    ['a list', `- ${A}\n`, /must map service names to tokens/],
    ['a scalar', `${SECRET}\n`, /must map service names to tokens/],
    ['bad YAML', `a: [${SECRET}\nb: x\n`, /tokens\.yaml:\d+: not valid YAML \([A-Z_]+\)/],
    [
      'a duplicate service',
      `a: ${A}\na: ${B}\n`,
      /tokens\.yaml:2: not valid YAML \(DUPLICATE_KEY\)/,
    ],
    [
      'a short token',
      `a: ${A}\nb: short-${SECRET.slice(0, 5)}\n`,
      /tokens\.yaml:2: the token of service "b" must be at least 16/,
    ],
    ['a token with a space', `a: "${SECRET} x"\n`, /printable ASCII without spaces/],
    ['a number', 'a: 12345678901234567890\n', /must be a string \(quote it/],
    ['a nested map', `a:\n  token: ${SECRET}\n`, /must be a string/],
    [
      'too many tokens',
      `a: [${Array.from({ length: 9 }, (_, i) => `${SECRET}-${i}`).join(', ')}]\n`,
      /list of 1 to 8/,
    ],
    ['no token', 'a: []\n', /list of 1 to 8/],
    [
      'a shared token',
      `a: ${SECRET}\nb: ${SECRET}\n`,
      /tokens\.yaml:2: services "a" and "b" have the same token/,
    ],
  ])('refuses %s, naming the file and line', (_what, text, message) => {
    expect(parseError(text)).toMatch(message)
  })

  it('never quotes a token, not even one pasted where a service name belongs', () => {
    for (const text of [
      `"${SECRET}/x": ${A}\n`,
      `a: ${SECRET}\nb: ${SECRET}\n`,
      `a: "${SECRET} with space"\n`,
      `a: [${SECRET}\n`,
      `a: {${SECRET}\n`,
      `a: !!binary ${SECRET}\n`,
      `a: *${SECRET}\n`,
      `a: !${SECRET} x\n`,
      SECRET,
    ]) {
      expect(parseError(text)).not.toContain(SECRET)
    }
  })
})

describe('HEARTBEAT_TOKENS_FILE in loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hb-tokens-'))
  const file = (name: string, text: string) => {
    const path = join(dir, name)
    writeFileSync(path, text)
    return path
  }

  it('loads the file at start-up into config.serviceTokens', () => {
    const path = file('good.yaml', `query-scheduler: ${A}\n`)
    const config = loadConfig({ HEARTBEAT_TOKENS_FILE: path })
    expect(config.serviceTokens.get('query-scheduler')).toEqual([A])
    expect(loadConfig({}).serviceTokens.size).toBe(0)
  })

  it('stops start-up with a one-line ConfigError naming the variable and the path', () => {
    const bad = file('bad.yaml', `a: ${A}\nb: too-short\n`)
    expect(() => loadConfig({ HEARTBEAT_TOKENS_FILE: bad })).toThrow(ConfigError)
    expect(() => loadConfig({ HEARTBEAT_TOKENS_FILE: bad })).toThrow(
      `HEARTBEAT_TOKENS_FILE ${bad}:2: the token of service "b" must be at least 16 characters`
    )
    const missing = join(dir, 'missing.yaml')
    expect(() => loadConfig({ HEARTBEAT_TOKENS_FILE: missing })).toThrow(
      `HEARTBEAT_TOKENS_FILE ${missing}: cannot read (ENOENT)`
    )
    expect(() => loadConfig({ HEARTBEAT_TOKENS_FILE: dir })).toThrow(/cannot read \(EISDIR\)/)
  })

  it('refuses a service token equal to HEARTBEAT_TOKEN, without quoting it', () => {
    const path = file('shared.yaml', `a: ${SECRET}\n`)
    let message = ''
    try {
      loadConfig({ HEARTBEAT_TOKENS_FILE: path, HEARTBEAT_TOKEN: SECRET })
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/the token of service "a" equals HEARTBEAT_TOKEN/)
    expect(message).not.toContain(SECRET)
  })
})
