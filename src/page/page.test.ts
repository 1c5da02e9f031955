import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Script } from 'node:vm'

import { jsx } from 'hono/jsx'
import { afterEach, describe, expect, it } from 'vitest'

import { testApp } from '../../test/helpers/app.js'
import { sampleDocument } from '../../test/helpers/sse-server.js'
import { waitFor } from '../../test/helpers/wait-for.js'

import { summarize } from '../client/index.js'
import type { HealthDocument, Transition } from '../client/types.js'

import { pageScript } from './assets.js'
import { MessageBook, previewOf } from './parts.js'
import { LiveContent } from './view.js'

const files: string[] = []
function setup() {
  const file = join(tmpdir(), `hb-page-${process.pid}-${files.length}.yaml`)
  files.push(file)
  writeFileSync(
    file,
    [
      'services:',
      '  database: { heartbeat: true }',
      '  query-scheduler: { heartbeat: true, dependsOn: [database] }',
      '  webui: { heartbeat: true, dependsOn: [query-scheduler] }',
      '  db-table-creator: { role: job, heartbeat: true }',
      '',
    ].join('\n')
  )
  const { app, post } = testApp({ CONFIG_FILE: file })
  const beat = async (body: Record<string, unknown>) => {
    expect((await post(body)).status).toBe(202)
  }
  const page = async () => {
    const res = await app.request('/')
    expect(res.status).toBe(200)
    return { res, html: await res.text() }
  }
  return { app, beat, page }
}
afterEach(() => {
  for (const f of files.splice(0)) rmSync(f, { force: true })
})

/** Text content, roughly: tags dropped, the entities hono/jsx writes decoded. */
function textOf(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
}

describe('GET / (the status page)', () => {
  it('shows the current state without JavaScript: overall status, root cause, impact, kinds, instances', async () => {
    const { beat, page } = setup()
    await beat({ service: 'database', error: 'disk full' })
    await beat({ service: 'query-scheduler', error: 'cannot reach database' })
    await beat({ service: 'webui' })
    await beat({ service: 'db-table-creator', status: 'succeeded' })
    const { res, html } = await page()
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(html.startsWith('<!doctype html>')).toBe(true)
    const text = textOf(html)
    expect(text).toContain('unhealthy')
    expect(text).toContain('database is unhealthy; 1 service impacted (2 of 4 healthy)')
    expect(text).toMatch(/Root cause: fix this first .*database disk full/)
    expect(text).toContain('takes down: query-scheduler · puts at risk: webui')
    expect(text).toContain('probably because database is unhealthy (root cause)')
    expect(text).toContain('at risk: database is unhealthy')
    expect(text).toMatch(/db-table-creator job .*completed successfully/)
    expect(text).toContain('1 instance, 1 not healthy')
    expect(html).toMatch(/<title>✕ unhealthy · health-bridge<\/title>/)
    // The browser tab's icon is red too.
    expect(html).toContain(encodeURIComponent('fill="#cf222e"'))
  })

  it('renders a message holding HTML as text, never as markup', async () => {
    const { beat, page, app } = setup()
    const evil = '<script>alert(1)</script><img src=x onerror="alert(2)"> & </td>'
    await beat({ service: 'database', error: evil })
    const { html } = await page()
    expect(html).not.toContain('<script>alert')
    expect(html).not.toContain('<img')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(textOf(html)).toContain(evil)
    const fragment = await (await app.request('/page/fragment')).text()
    expect(fragment).not.toContain('<script>alert')
    expect(fragment).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;')
  })

  it('runs no inline code: a strict CSP, one external script, no inline styles or handlers', async () => {
    const { page } = setup()
    const { res, html } = await page()
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("style-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    const scripts = html.match(/<script[^>]*>/g) ?? []
    expect(scripts).toEqual(['<script src="assets/page.js" defer="">'])
    expect(html).not.toMatch(/\sstyle=/)
    expect(html).not.toMatch(/\son[a-z]+=/)
  })

  it('serves the live part alone with an ETag: 304 while unchanged, new content after a change', async () => {
    const { app, beat, page } = setup()
    await beat({ service: 'database' })
    const { html } = await page()
    const first = await app.request('/page/fragment')
    const etag = first.headers.get('etag') ?? ''
    expect(etag).toMatch(/^W\//)
    // The page says which fragment it holds, so the script's first revalidation is a 304.
    expect(html).toContain(`data-etag="${etag.replace(/"/g, '&quot;')}"`)
    expect(await first.text()).toMatch(/^<div class="live-root" data-status="starting"/)
    const same = await app.request('/page/fragment', { headers: { 'if-none-match': etag } })
    expect(same.status).toBe(304)
    await beat({ service: 'database', error: 'disk full' })
    const changed = await waitFor(async () => {
      const r = await app.request('/page/fragment', { headers: { 'if-none-match': etag } })
      return r.status === 200 ? r : null
    })
    expect(await changed.text()).toContain('disk full')
  })

  it('serves its script (the bundle, self-contained) and stylesheet, revalidatable', async () => {
    const { app } = setup()
    const js = await app.request('/assets/page.js')
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    const source = await js.text()
    expect(source).toBe(pageScript())
    // One classic script that needs nothing else: it parses standalone, imports nothing, and
    // carries the bridge's own client (not run here: the browser test runs it).
    expect(() => new Script(source)).not.toThrow()
    expect(source).not.toMatch(/^\s*import\s/m)
    expect(source).toContain('// src/client/subscribe.ts')
    const again = await app.request('/assets/page.js', {
      headers: { 'if-none-match': js.headers.get('etag') ?? '' },
    })
    expect(again.status).toBe(304)
    const css = await app.request('/assets/page.css')
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect(await css.text()).toContain('.banner')
  })

  it('refuses unknown query parameters', async () => {
    const { app } = setup()
    const res = await app.request('/?foo=1')
    expect(res.status).toBe(400)
  })
})

describe('the live content, rendered from a document', () => {
  const render = async (doc: HealthDocument, transitions: Transition[] = []) => {
    const node = jsx(LiveContent, { doc, summary: summarize(doc), transitions })
    return textOf(await node.toString())
  }
  const instance = (id: string, host: string, message = 'heartbeating') => ({
    id,
    host,
    status: 'healthy' as const,
    message,
    docker: null,
    heartbeat: null,
  })

  it('names the host of each instance only when a service runs on more than one', async () => {
    const doc = sampleDocument({ api: 'healthy', db: 'healthy' })
    const [api, db] = doc.services
    if (!api || !db) throw new Error('sample')
    api.instances = [instance('api-1', 'worker-1'), instance('api-2', 'worker-2')]
    db.instances = [instance('db-1', 'worker-1'), instance('db-2', 'worker-1')]
    const text = await render(doc)
    expect(text).toContain('api-1 on worker-1')
    expect(text).toContain('api-2 on worker-2')
    expect(text).not.toMatch(/db-\d on /)
  })

  it('prints a long message in full once: where it first appears, collapsed after', async () => {
    const long = `cannot write /var/lib/db: ${'disk full, '.repeat(12)}giving up`
    const doc = {
      ...sampleDocument({ db: 'unhealthy', web: 'healthy' }),
      status: 'unhealthy' as const,
    }
    const db = doc.services[0]
    if (!db) throw new Error('sample')
    db.message = long
    db.instances = [{ ...instance('default', 'h', long), status: 'unhealthy' }]
    const transitions: Transition[] = [
      {
        at: doc.checkedAt,
        service: 'db',
        instance: null,
        from: 'healthy',
        to: 'unhealthy',
        message: long,
      },
    ]
    const node = jsx(LiveContent, { doc, summary: summarize(doc), transitions })
    const html = await node.toString()
    // In full: the root-cause box; collapsed (a preview that opens): its card and the change.
    expect(html.split(long).length - 1).toBe(3)
    expect(html.match(/<details class="long"/g)).toHaveLength(2)
    expect(textOf(html)).toContain(previewOf(long))
    const book = new MessageBook()
    expect(book.showInFull('short')).toBe(true)
    expect(book.showInFull('short')).toBe(true)
    expect(book.showInFull(`2 of 3 instances unhealthy: ${long}`)).toBe(true)
    expect(book.showInFull(long)).toBe(false)
  })
})
