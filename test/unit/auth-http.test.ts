/**
 * Authentication as a client sees it: status codes, the error shape, WWW-Authenticate, and
 * which endpoints need which token.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { errorBodySchema } from '../../src/wire/error.js'
import { testApp } from '../helpers/app.js'

const SHARED = 'canary-shared-heartbeat-token-7f3a'
const TOKEN_A = 'canary-service-a-token-19bd-0001'
const TOKEN_B = 'canary-service-b-token-2c4e-0002'
const READ = 'canary-read-token-5d6f-000000003'
const CANARIES = [SHARED, TOKEN_A, TOKEN_B, READ]

function tokensFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'hb-auth-')), 'tokens.yaml')
  writeFileSync(path, text)
  return path
}

function setup(env: Record<string, string>) {
  const { app, store, raw, post: postWith } = testApp(env, { level: 'trace' })
  const post = (body: unknown, authorization?: string) =>
    postWith(body, authorization === undefined ? {} : { authorization })
  const del = (query: string, authorization?: string) =>
    app.request(`/health?${query}`, {
      method: 'DELETE',
      headers: authorization === undefined ? {} : { authorization },
    })
  return { app, store, post, del, raw }
}

async function expectError(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status)
  const body = errorBodySchema.parse(await res.json())
  expect(body.error).toBe(code)
  return body.message
}

describe('HEARTBEAT_TOKEN', () => {
  it.each<[string, string | undefined]>([
    ['missing', undefined],
    ['empty', ''],
    ['another scheme', `Basic ${Buffer.from(`x:${SHARED}`).toString('base64')}`],
    ['a token with spaces', 'Bearer bad token!'],
    ['a scheme without token', 'Bearer'],
    ['the bare token', SHARED],
    ['a wrong token', 'Bearer canary-wrong-token-000000000'],
    ['a prefix of the token', `Bearer ${SHARED.slice(0, -1)}`],
  ])('answers 401 with WWW-Authenticate for %s, before reading the body', async (_what, auth) => {
    const { post } = setup({ HEARTBEAT_TOKEN: SHARED })
    const res = await post('{not json', auth)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="health-bridge"')
    await expectError(res, 401, 'unauthorized')
  })

  it('accepts the token with any case of the scheme', async () => {
    const { post } = setup({ HEARTBEAT_TOKEN: SHARED })
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      expect((await post({ service: 'a' }, `${scheme} ${SHARED}`)).status).toBe(202)
    }
  })

  it('guards DELETE as well', async () => {
    const { post, del } = setup({ HEARTBEAT_TOKEN: SHARED })
    await post({ service: 'a' }, `Bearer ${SHARED}`)
    await expectError(await del('service=a'), 401, 'unauthorized')
    expect((await del('service=a', `Bearer ${SHARED}`)).status).toBe(204)
  })
})

describe('HEARTBEAT_TOKENS_FILE', () => {
  const file = () => tokensFile(`a: ${TOKEN_A}\nb: ${TOKEN_B}\n`)

  it("accepts a service's own token and refuses it for another service with 403", async () => {
    const { post, app } = setup({ HEARTBEAT_TOKENS_FILE: file() })
    expect((await post({ service: 'a' }, `Bearer ${TOKEN_A}`)).status).toBe(202)
    const before = await (await app.request('/health')).text()
    const message = await expectError(
      await post({ service: 'b', error: 'spoofed' }, `Bearer ${TOKEN_A}`),
      403,
      'forbidden'
    )
    expect(message).toContain('cannot report for "b"')
    expect(message).not.toContain(TOKEN_A)
    // The spoofed heartbeat changed nothing.
    expect(await (await app.request('/health')).text()).toBe(before)
  })

  it('refuses services that have no token of their own when there is no HEARTBEAT_TOKEN', async () => {
    const { post } = setup({ HEARTBEAT_TOKENS_FILE: file() })
    await expectError(await post({ service: 'c' }, `Bearer ${TOKEN_A}`), 403, 'forbidden')
    await expectError(await post({ service: 'c' }), 401, 'unauthorized')
  })

  it('lets HEARTBEAT_TOKEN report only for services not listed in the file', async () => {
    const { post } = setup({ HEARTBEAT_TOKENS_FILE: file(), HEARTBEAT_TOKEN: SHARED })
    expect((await post({ service: 'c' }, `Bearer ${SHARED}`)).status).toBe(202)
    const message = await expectError(
      await post({ service: 'a' }, `Bearer ${SHARED}`),
      403,
      'forbidden'
    )
    expect(message).toContain('has its own token')
  })

  it('binds DELETE to the service too', async () => {
    const { post, del } = setup({ HEARTBEAT_TOKENS_FILE: file() })
    await post({ service: 'a' }, `Bearer ${TOKEN_A}`)
    await expectError(await del('service=a', `Bearer ${TOKEN_B}`), 403, 'forbidden')
    expect((await del('service=a', `Bearer ${TOKEN_A}`)).status).toBe(204)
  })
})

describe('READ_TOKEN', () => {
  const reads = [
    '/health',
    '/health?service=a',
    '/health?service=a&format=text',
    '/health/ready',
    '/health/history',
    '/health/stream',
    '/metrics',
    '/',
    '/no-such-page',
  ]

  it.each(reads)('GET %s needs the token (401 with a Bearer challenge)', async (path) => {
    const { app, post } = setup({ READ_TOKEN: READ })
    await post({ service: 'a' })
    const res = await app.request(path)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="health-bridge"')
    await expectError(res, 401, 'unauthorized')
    const wrong = await app.request(path, { headers: { authorization: `Bearer ${TOKEN_A}` } })
    expect(wrong.status).toBe(401)
    const ok = await app.request(path, { headers: { authorization: `Bearer ${READ}` } })
    expect(ok.status).not.toBe(401)
    await ok.body?.cancel()
  })

  it('guards HEAD too', async () => {
    const { app } = setup({ READ_TOKEN: READ })
    expect((await app.request('/health', { method: 'HEAD' })).status).toBe(401)
  })

  it('leaves /health/live open for bare liveness probes', async () => {
    const { app } = setup({ READ_TOKEN: READ })
    expect((await app.request('/health/live')).status).toBe(200)
  })

  it('offers browsers Basic auth (any user, the token as password) so the page can open', async () => {
    const { app } = setup({ READ_TOKEN: READ })
    const page = await app.request('/', { headers: { accept: 'text/html,*/*' } })
    expect(page.status).toBe(401)
    expect(page.headers.get('www-authenticate')).toMatch(/^Basic realm="health-bridge"/)
    const basic = `Basic ${Buffer.from(`me:${READ}`).toString('base64')}`
    expect((await app.request('/health', { headers: { authorization: basic } })).status).toBe(200)
    const wrong = `Basic ${Buffer.from(`me:${TOKEN_A}`).toString('base64')}`
    expect((await app.request('/health', { headers: { authorization: wrong } })).status).toBe(401)
  })

  it('does not govern heartbeats, nor CORS preflights', async () => {
    const { app, post } = setup({ READ_TOKEN: READ })
    expect((await post({ service: 'a' })).status).toBe(202)
    expect((await post({ service: 'a' }, `Bearer ${READ}`)).status).toBe(202)
    const preflight = await app.request('/health', {
      method: 'OPTIONS',
      headers: { origin: 'https://webui.example', 'access-control-request-method': 'GET' },
    })
    expect(preflight.status).not.toBe(401)
  })

  it('is off by default', async () => {
    const { app } = setup({})
    expect((await app.request('/health')).status).toBe(200)
    expect((await app.request('/metrics')).status).toBe(200)
  })
})

describe('secrets', () => {
  it('never appear in a log line or a response, whatever is sent', async () => {
    const { app, post, del, raw } = setup({
      HEARTBEAT_TOKEN: SHARED,
      HEARTBEAT_TOKENS_FILE: tokensFile(`a: ${TOKEN_A}\nb: ${TOKEN_B}\n`),
      READ_TOKEN: READ,
    })
    const responses: string[] = []
    const keep = async (res: Response) => {
      let headers = ''
      res.headers.forEach((value, name) => (headers += `${name}: ${value}\n`))
      responses.push(headers + (await res.text()))
    }
    for (const token of CANARIES) {
      for (const scheme of ['Bearer ', 'bearer ', 'Basic ', '', 'Bearer x ']) {
        const auth = `${scheme}${token}`
        await keep(await post({ service: 'a', details: { note: 'hi' } }, auth))
        await keep(await post({ service: 'b', error: 'boom' }, auth))
        await keep(await post({ service: 'c' }, auth))
        await keep(await post('{"service":', auth))
        await keep(await del('service=a', auth))
        await keep(await app.request('/health', { headers: { authorization: auth } }))
        await keep(await app.request('/metrics', { headers: { authorization: auth } }))
        await keep(
          await app.request('/health?service=a&format=text', { headers: { authorization: auth } })
        )
      }
    }
    expect(raw.length).toBeGreaterThan(0)
    for (const line of [...raw, ...responses]) {
      for (const canary of CANARIES) expect(line).not.toContain(canary)
    }
  })
})
