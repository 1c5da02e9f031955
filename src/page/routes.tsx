/**
 * The built-in status page: `GET /` (the whole page, server-rendered: it shows the current state
 * without JavaScript), `GET /page/fragment` (the live part alone, which the page's script swaps
 * in on every change) and the two assets it loads.
 */
import { Hono, type Context } from 'hono'
import { z } from 'zod'

// The page is a client of the bridge like any WebUI: it summarizes with the published client's
// own summarize(), so the page and a WebUI built on @health-bridge/client tell the same story.
import { summarize } from '../client/index.js'
import { CACHE_CONTROL, conditional, weakTagOf } from '../http/conditional.js'
import { parseQuery } from '../http/query.js'
import { frameAncestors } from '../http/security.js'
import type { HealthStore, Rendered } from '../store/health-store.js'

import { pageScript } from './assets.js'
import { PAGE_CSS } from './page-style.js'
import { LiveContent, StatusPage, type PageModel } from './view.js'

/** How many transitions "Recent changes" lists. */
export const RECENT_CHANGES = 12

export const pageQuerySchema = z.strictObject({})

const HTML_TYPE = 'text/html; charset=utf-8'

export interface PageDeps {
  store: Pick<HealthStore, 'current' | 'transitions'>
  version: string
  corsOrigins: readonly string[]
}

/**
 * Strict: only our own script, style and connections; nothing inline, no plugins, no forms.
 * Framing follows the rest of the bridge: this origin and CORS_ORIGINS (the WebUI may embed it).
 */
export function statusPageCsp(corsOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors(corsOrigins)}`,
  ].join('; ')
}

/** hono/jsx types an element as an escaped string; at run time it renders in `toString()`. */
async function render(node: object): Promise<string> {
  const rendered = (node as { toString(): string | Promise<string> }).toString()
  return typeof rendered === 'string' ? rendered : await rendered
}

function asset(body: string, type: string) {
  const etag = weakTagOf(body)
  return (c: Context) => conditional(c, { etag, type, body })
}

export function pageRoutes(deps: PageDeps): Hono {
  const { store } = deps
  const csp = statusPageCsp(deps.corsOrigins)
  const app = new Hono()

  const modelOf = (rendered: Rendered): PageModel => ({
    doc: rendered.doc,
    summary: summarize(rendered.doc),
    transitions: store.transitions(undefined, RECENT_CHANGES),
  })

  // The fragment changes only when the document is re-rendered: keep the last one.
  let live: { rendered: Rendered; html: string; etag: string } | null = null
  const liveFragment = async () => {
    const rendered = store.current()
    if (live?.rendered !== rendered) {
      const html = await render(<LiveContent {...modelOf(rendered)} />)
      live = { rendered, html, etag: weakTagOf(html) }
    }
    return live
  }

  app.get('/', async (c) => {
    parseQuery(c, pageQuerySchema)
    const fragment = await liveFragment()
    const page = (
      <StatusPage {...modelOf(fragment.rendered)} liveEtag={fragment.etag} version={deps.version} />
    )
    return c.html(`<!doctype html>\n${await render(page)}`, 200, {
      'cache-control': CACHE_CONTROL,
      'content-security-policy': csp,
    })
  })

  app.get('/page/fragment', async (c) => {
    parseQuery(c, pageQuerySchema)
    const fragment = await liveFragment()
    return conditional(c, {
      etag: fragment.etag,
      type: HTML_TYPE,
      body: fragment.html,
      headers: { 'content-security-policy': csp },
    })
  })

  app.get('/assets/page.js', asset(pageScript(), 'text/javascript; charset=utf-8'))
  app.get('/assets/page.css', asset(PAGE_CSS, 'text/css; charset=utf-8'))

  return app
}
