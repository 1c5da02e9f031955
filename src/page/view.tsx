/**
 * The status page, as pure functions of the document: `StatusPage` (the whole HTML page) and
 * `LiveContent` (the part the page's script swaps in when health changes). hono/jsx escapes every
 * text child and attribute, so a message holding HTML renders as text; nothing here uses `raw`.
 * Status is always said in words and a glyph as well as colour.
 */
import type { FC } from 'hono/jsx'

import type { HealthSummary } from '../client/index.js'
import type { Status } from '../model/status.js'
import type { HealthDocument, Transition } from '../wire/health-document.js'

import { Changes } from './changes.js'
import { GLYPH, MessageBook, When } from './parts.js'
import { Attention, HealthyTable, RootCauses } from './services.js'

export interface PageModel {
  doc: HealthDocument
  summary: HealthSummary
  /** Recent transitions, newest first. */
  transitions: readonly Transition[]
}

/** The colours of the favicon and the page (also in page.css); WCAG AA against white text. */
export const COLOUR: Record<Status, string> = {
  healthy: '#1a7f37',
  degraded: '#9a6700',
  starting: '#0969da',
  unknown: '#57606a',
  unhealthy: '#cf222e',
}

export function titleOf(summary: HealthSummary, project: string | null): string {
  return `${GLYPH[summary.status]} ${summary.status} · ${project ?? 'health-bridge'}`
}

/** A round favicon in the overall status' colour: the browser tab says it too. */
export function faviconOf(status: Status): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="${COLOUR[status]}"/></svg>`
  return `data:image/svg+xml,${encodeURIComponent(svg)}`
}

const Banner: FC<{ summary: HealthSummary; doc: HealthDocument }> = ({ summary, doc }) => {
  const { docker, peers } = doc.bridge.sources
  return (
    <header class={`banner s-${summary.status}`}>
      <h1>
        <span class="glyph" aria-hidden="true">
          {GLYPH[summary.status]}
        </span>{' '}
        <span class="word">{summary.status}</span>
      </h1>
      <p class="headline">{summary.headline}</p>
      <p class="sources">
        {docker.project !== null ? <>project {docker.project} · </> : null}
        docker {docker.state}
        {docker.state === 'disconnected' && docker.detail !== null ? <> ({docker.detail})</> : null}
        {' · '}
        {doc.bridge.sources.heartbeat.instances} heartbeat instances
        {peers.length > 0 ? (
          <>
            {' · '}
            {peers.filter((p) => p.state === 'following').length} of {peers.length} peer bridges
            following
          </>
        ) : null}
      </p>
    </header>
  )
}

/** The part of the page that changes with health: swapped in whole by the page's script. */
export const LiveContent: FC<PageModel> = ({ doc, summary, transitions }) => {
  // One book per render: each long message is shown in full once, at its topmost place.
  const shared = { reference: doc.checkedAt, book: new MessageBook() }
  const attention = summary.services.filter((s) => s.status !== 'healthy')
  const fine = summary.services.filter((s) => s.status === 'healthy')
  const project = doc.bridge.sources.docker.project
  return (
    <div
      class="live-root"
      data-status={summary.status}
      data-headline={summary.headline}
      data-title={titleOf(summary, project)}
      data-icon={faviconOf(summary.status)}
    >
      <Banner summary={summary} doc={doc} />
      <RootCauses summary={summary} shared={shared} />
      {attention.length > 0 ? <Attention services={attention} shared={shared} /> : null}
      {fine.length > 0 ? (
        <section class="services fine" aria-labelledby="fine-title">
          <h2 id="fine-title">Healthy ({fine.length})</h2>
          <HealthyTable services={fine} shared={shared} />
        </section>
      ) : null}
      <Changes transitions={transitions} shared={shared} />
    </div>
  )
}

export const StatusPage: FC<PageModel & { liveEtag: string; version: string }> = (props) => {
  const { doc, summary, liveEtag, version } = props
  const project = doc.bridge.sources.docker.project
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title>{titleOf(summary, project)}</title>
        <link rel="icon" id="favicon" href={faviconOf(summary.status)} />
        <link rel="stylesheet" href="assets/page.css" />
        <script src="assets/page.js" defer></script>
      </head>
      <body>
        <div class="topbar">
          <p id="conn" class="conn" data-state="static">
            As of <When iso={doc.checkedAt} reference={doc.checkedAt} />; reload for news (live
            updates need JavaScript).
          </p>
        </div>
        {/* Screen readers hear status changes here (the script fills it), not every swap. */}
        <p id="announce" class="visually-hidden" aria-live="polite"></p>
        <div id="live" data-etag={liveEtag}>
          <LiveContent {...props} />
        </div>
        <footer>
          <p class="links">
            health-bridge {version} · <a href="health">JSON</a> ·{' '}
            <a href="health?format=text">text</a> · <a href="health/history">history</a> ·{' '}
            <a href="openapi.json">OpenAPI</a>
          </p>
        </footer>
      </body>
    </html>
  )
}
