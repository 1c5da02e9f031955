/**
 * Start-up inputs: CONFIG_FILE text only ever fails with ConfigFileError, HEARTBEAT_TOKENS_FILE
 * text only with TokensFileError (never quoting a token), and any environment only with a
 * ConfigError that never echoes a token.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import fc from 'fast-check'
import { stringify } from 'yaml'
import { describe, expect, it } from 'vitest'

import { ConfigFileError, parseConfigFile } from '../../src/config/config-file.js'
import { ConfigError, loadConfig } from '../../src/config/config.js'
import { TokensFileError, parseTokensFile } from '../../src/config/tokens-file.js'

import { serviceName } from './arbitraries.js'
import { fuzzParams } from './settings.js'

/** Runs `fn`; anything thrown must be an instance of `expected`. */
function onlyThrows(expected: new (...args: never[]) => Error, fn: () => unknown): Error | null {
  try {
    fn()
    return null
  } catch (err) {
    if (!(err instanceof expected)) {
      const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
      throw new Error(`threw ${what} instead of ${expected.name}`, { cause: err })
    }
    expect(err.message).not.toContain('\n')
    return err
  }
}

const settingValue = fc.oneof(
  fc.constantFrom(
    'service',
    'job',
    'worker',
    true,
    false,
    'true',
    '30s',
    '0',
    'soon',
    45,
    -1,
    null,
    [],
    {}
  ),
  fc.jsonValue({ maxDepth: 2 })
)
const settings = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'role',
      'critical',
      'heartbeat',
      'heartbeatTimeout',
      'jobTimeout',
      'dependsOn',
      'ignore'
    ),
    fc.string({ maxLength: 12 })
  ),
  settingValue,
  { maxKeys: 4 }
)
const configObject = fc.oneof(
  fc.record({
    services: fc.dictionary(
      fc.oneof(serviceName, fc.string({ maxLength: 70 })),
      fc.oneof(settings, fc.constant(null)),
      { maxKeys: 4 }
    ),
  }),
  fc.jsonValue({ maxDepth: 3 })
)
/** YAML-ish text: valid documents, documents cut anywhere, and junk. */
const yamlText = fc.oneof(
  configObject.map((o) => stringify(o)),
  configObject.map((o) => JSON.stringify(o)),
  fc.tuple(configObject, fc.nat()).map(([o, cut]) => {
    const t = stringify(o)
    return t.slice(0, cut % (t.length + 1))
  }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom(
    '&a [*a]',
    '!!binary x',
    '? [a]\n: b',
    'a: &x 1\nb: *y',
    '%YAML 9.9\n---\na: 1',
    '---\n---\n',
    '\t- x',
    'a: *a'
  )
)

describe('CONFIG_FILE content', () => {
  it('only ever fails with a one-line ConfigFileError naming the file', () => {
    fc.assert(
      fc.property(yamlText, (text) => {
        const err = onlyThrows(ConfigFileError, () => parseConfigFile(text, 'config.yaml'))
        if (err) expect(err.message.startsWith('config.yaml')).toBe(true)
      }),
      fuzzParams(1000)
    )
  })
})

describe('HEARTBEAT_TOKENS_FILE content', () => {
  const token = fc.string({ minLength: 16, maxLength: 40 }).map((s) => `tok-${s}`)
  const tokensObject = fc.oneof(
    fc.dictionary(
      fc.oneof(serviceName, fc.string({ maxLength: 70 })),
      fc.oneof(token, fc.array(token, { maxLength: 10 }), settingValue),
      { maxKeys: 4 }
    ),
    fc.jsonValue({ maxDepth: 2 })
  )
  const tokensText = fc.oneof(
    tokensObject.map((o) => stringify(o)),
    tokensObject.map((o) => JSON.stringify(o)),
    fc.tuple(tokensObject, fc.nat()).map(([o, cut]) => {
      const t = stringify(o)
      return t.slice(0, cut % (t.length + 1))
    }),
    fc.string({ unit: 'binary', maxLength: 300 })
  )

  it('only ever fails with TokensFileError, and never quotes a token value', () => {
    fc.assert(
      fc.property(tokensText, (text) => {
        const err = onlyThrows(TokensFileError, () => parseTokensFile(text, 'tokens.yaml'))
        if (!err) return
        expect(err.message.startsWith('tokens.yaml')).toBe(true)
        // Every `tok-...` string in the text is a token value; none may be echoed.
        for (const m of text.matchAll(/tok-[^\s"',\]}]{12,}/g))
          expect(err.message).not.toContain(m[0])
      }),
      fuzzParams(1000)
    )
  })
})

describe('environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hb-fuzz-env-'))
  let files = 0
  const fileWith = (text: string) => {
    const path = join(dir, `f${files++}.yaml`)
    writeFileSync(path, text)
    return path
  }
  const secret = fc.string({ minLength: 1, maxLength: 30 }).map((s) => `secret-${s}`)
  const anyValue = fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      '0',
      '1',
      '-1',
      '65536',
      '8080',
      '30s',
      '1h',
      '0.5',
      'on',
      'off',
      'auto',
      'true',
      'yes',
      'info',
      '*',
      'unix:///x',
      'tcp://h:1',
      'https://a.example'
    ),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 })
  )
  const keys = [
    'PORT',
    'HOST',
    'LOG_LEVEL',
    'DOCKER_HOST',
    'DOCKER',
    'COMPOSE_PROJECT_NAME',
    'HEARTBEAT_TIMEOUT',
    'STARTUP_GRACE',
    'CRASHLOOP_RESTARTS',
    'CRASHLOOP_WINDOW',
    'DOCKER_STALE_AFTER',
    'DOCKER_GIVE_UP_AFTER',
    'MAX_INSTANCES',
    'MAX_STREAMS',
    'CORS_ORIGINS',
    'MAX_BODY_BYTES',
    'MAX_ERROR_CHARS',
    'MAX_DETAILS_BYTES',
    'MAX_DETAILS_DEPTH',
    'HEADERS_TIMEOUT',
    'REQUEST_TIMEOUT',
    'KEEP_ALIVE_TIMEOUT',
    'CHECK_SENDER_ADDRESS',
    'UNRELATED',
  ]
  const env = fc.record({
    plain: fc.dictionary(fc.constantFrom(...keys), anyValue, { maxKeys: 6 }),
    heartbeatToken: fc.option(secret, { nil: undefined }),
    readToken: fc.option(secret, { nil: undefined }),
    configFile: fc.option(
      fc.oneof(
        yamlText.map((t) => ({ text: t })),
        fc.constant({ missing: true })
      ),
      { nil: undefined }
    ),
    tokensFile: fc.option(
      fc.oneof(
        fc.string({ maxLength: 100 }).map((t) => ({ text: t })),
        fc.constant({ missing: true })
      ),
      { nil: undefined }
    ),
  })

  it('only ever fails with a one-line ConfigError that never echoes a token', () => {
    fc.assert(
      fc.property(env, (e) => {
        const vars: Record<string, string> = { ...e.plain }
        if (e.heartbeatToken !== undefined) vars.HEARTBEAT_TOKEN = e.heartbeatToken
        if (e.readToken !== undefined) vars.READ_TOKEN = e.readToken
        const path = (f: { text: string } | { missing: true }) =>
          'text' in f ? fileWith(f.text) : join(dir, 'does-not-exist.yaml')
        if (e.configFile !== undefined) vars.CONFIG_FILE = path(e.configFile)
        if (e.tokensFile !== undefined) vars.HEARTBEAT_TOKENS_FILE = path(e.tokensFile)
        const err = onlyThrows(ConfigError, () => loadConfig(vars))
        if (!err) return
        for (const t of [e.heartbeatToken, e.readToken]) {
          if (t !== undefined && t.trim().length > 8) expect(err.message).not.toContain(t.trim())
        }
      }),
      fuzzParams(1000)
    )
  })
})
