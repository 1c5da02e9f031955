/**
 * The status page, as pure functions of the document: `StatusPage` (the whole HTML page) and
 * `LiveContent` (the part the page's script swaps in when health changes). hono/jsx escapes every
 * text child and attribute, so a message holding HTML renders as text; nothing here uses `raw`.
 * Status is always said in words and a glyph as well as colour.
 */
import type { FC } from 'hono/jsx'

import { listNames, type HealthSummary, type ServiceSummary } from '../client/summarize.js'
import type { Status } from '../model/status.js'
import type { HealthDocument, InstanceView, Transition } from '../wire/health-document.js'

export interface PageModel {
  doc: HealthDocument
  summary: HealthSummary
  /** Recent transitions, newest first. */
  transitions: readonly Transition[]
}

/** A glyph per status, so colour is never the only signal. */
export const GLYPH: Record<Status, string> = {
  healthy: '✓',
  degraded: '!',
  starting: '…',
  unknown: '?',
  unhealthy: '✕',
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

/** `10:01:02 UTC` on the day of `reference`, else `2026-11-20 10:01 UTC`; the script localizes. */
export function clockOf(iso: string, reference: string): string {
  const sameDay = iso.slice(0, 10) === reference.slice(0, 10)
  return sameDay ? `${iso.slice(11, 19)} UTC` : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
}

const Pill: FC<{ status: Status }> = ({ status }) => (
  <span class={`pill s-${status}`}>
    <span class="glyph" aria-hidden="true">
      {GLYPH[status]}
    </span>{' '}
    {status}
  </span>
)

const When: FC<{ iso: string; reference: string }> = ({ iso, reference }) => (
  <time datetime={iso} data-rel="">
    {clockOf(iso, reference)}
  </time>
)

const Banner: FC<{ summary: HealthSummary; doc: HealthDocument }> = ({ summary, doc }) => {
  const docker = doc.bridge.sources.docker
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
      </p>
    </header>
  )
}

/** What a root cause does to the services that depend on it: broken ones, and still-working ones. */
const Consequences: FC<{ cause: ServiceSummary; summary: HealthSummary }> = ({
  cause,
  summary,
}) => {
  const roleOf = new Map(summary.services.map((s) => [s.name, s.role]))
  const down = cause.impacts.filter((n) => roleOf.get(n) === 'impacted')
  const atRisk = cause.impacts.filter((n) => roleOf.get(n) === 'at-risk')
  if (down.length === 0 && atRisk.length === 0) return null
  return (
    <p class="takes-down">
      {down.length > 0 ? (
        <>
          takes down: <strong>{listNames(down, 6)}</strong>
        </>
      ) : null}
      {down.length > 0 && atRisk.length > 0 ? ' · ' : null}
      {atRisk.length > 0 ? <>puts at risk: {listNames(atRisk, 6)}</> : null}
    </p>
  )
}

const RootCauses: FC<{ summary: HealthSummary; reference: string }> = ({ summary, reference }) => {
  if (summary.rootCauses.length === 0) return null
  return (
    <section class="causes" aria-labelledby="causes-title">
      <h2 id="causes-title">
        {summary.rootCauses.length === 1 ? 'Root cause' : 'Root causes'}: fix{' '}
        {summary.rootCauses.length === 1 ? 'this' : 'these'} first
      </h2>
      <ul>
        {summary.rootCauses.map((s) => (
          <li>
            <Pill status={s.status} /> <strong class="name">{s.name}</strong>{' '}
            <span class="msg">{s.message}</span>
            <span class="since">
              {' '}
              · since <When iso={s.since} reference={reference} />
            </span>
            <Consequences cause={s} summary={summary} />
          </li>
        ))}
      </ul>
    </section>
  )
}

function instanceFacts(i: InstanceView): string[] {
  const facts: string[] = []
  if (i.docker) {
    facts.push(`container ${i.docker.state}`)
    if (i.docker.health !== 'none') facts.push(`healthcheck ${i.docker.health}`)
    if (i.docker.recentRestarts > 0) facts.push(`${i.docker.recentRestarts} recent restarts`)
  }
  if (i.heartbeat) facts.push(i.heartbeat.expected ? 'heartbeat expected' : 'heartbeat')
  return facts
}

const Instances: FC<{ s: ServiceSummary }> = ({ s }) => {
  const { total, byStatus } = s.instances
  if (total === 0) return <p class="instances none">no instances</p>
  const notHealthy = total - byStatus.healthy
  const label =
    notHealthy === 0
      ? `${total} ${total === 1 ? 'instance' : 'instances'}, all healthy`
      : `${total} ${total === 1 ? 'instance' : 'instances'}, ${notHealthy} not healthy`
  return (
    <details class="instances" open={s.status !== 'healthy'}>
      <summary>{label}</summary>
      <ul>
        {s.view.instances.map((i) => (
          <li class={`inst s-${i.status}`}>
            <Pill status={i.status} /> <code class="id">{i.id}</code>{' '}
            <span class="msg">{i.message}</span>{' '}
            <span class="facts">{instanceFacts(i).join(' · ')}</span>
          </li>
        ))}
      </ul>
    </details>
  )
}

const Service: FC<{ s: ServiceSummary; reference: string }> = ({ s, reference }) => (
  <li class={`svc s-${s.status} role-${s.role}`} id={`svc-${s.name}`}>
    <div class="svc-head">
      <Pill status={s.status} />
      <h3 class="name">{s.name}</h3>
      {s.kind === 'job' ? <span class="tag">job</span> : null}
      {!s.critical ? <span class="tag">non-critical</span> : null}
      {s.flapping ? <span class="tag warn">flapping</span> : null}
      {s.role === 'root-cause' ? <span class="tag cause">root cause</span> : null}
      <span class="since">
        {s.status} since <When iso={s.since} reference={reference} />
      </span>
    </div>
    <p class="msg">{s.message}</p>
    {s.role === 'impacted' ? (
      <p class="impact">
        probably because <strong>{listNames(s.rootCauses, 6)}</strong>
        {s.rootCauses.length === 1 ? ' is ' : ' are '}
        unhealthy (root cause)
        {s.view.impactedBy.length > s.rootCauses.length ? (
          <> · impacted by {listNames(s.view.impactedBy, 6)}</>
        ) : null}
      </p>
    ) : null}
    {s.view.job ? (
      <p class="job">
        job {s.view.job.state}
        {s.view.job.exitCode !== null ? `, exit code ${s.view.job.exitCode}` : ''}
      </p>
    ) : null}
    <Instances s={s} />
    {s.view.dependsOn.length > 0 ? (
      <p class="deps">depends on {listNames(s.view.dependsOn, 8)}</p>
    ) : null}
  </li>
)

/** Healthy services, one compact row each: the eye goes to what is broken. */
const HealthyTable: FC<{ services: readonly ServiceSummary[]; reference: string }> = ({
  services,
  reference,
}) => (
  <table class="fine-table">
    <tbody>
      {services.map((s) => (
        <tr class={`svc-row s-${s.status} role-${s.role}`} id={`svc-${s.name}`}>
          <td class="status">
            <Pill status={s.status} />
          </td>
          <td class="name">
            <strong>{s.name}</strong>
            {s.kind === 'job' ? <span class="tag">job</span> : null}
            {!s.critical ? <span class="tag">non-critical</span> : null}
            {s.flapping ? <span class="tag warn">flapping</span> : null}
          </td>
          <td class="msg">
            {s.message}
            {s.role === 'at-risk' ? (
              <span class="risk">
                {' '}
                · at risk: {listNames(s.rootCauses, 4)} {s.rootCauses.length === 1 ? 'is' : 'are'}{' '}
                unhealthy
              </span>
            ) : null}
            {s.instances.total > 1 ? <Instances s={s} /> : null}
          </td>
          <td class="since">
            since <When iso={s.since} reference={reference} />
          </td>
        </tr>
      ))}
    </tbody>
  </table>
)

/**
 * A service's change is listed once: an instance's identical change at the same moment (the
 * single instance that made the service flip) adds nothing.
 */
export function withoutEchoes(transitions: readonly Transition[]): Transition[] {
  const serviceLevel = new Set(
    transitions
      .filter((t) => t.instance === null)
      .map((t) => `${t.at}|${t.service}|${t.to}|${t.message}`)
  )
  return transitions.filter(
    (t) => t.instance === null || !serviceLevel.has(`${t.at}|${t.service}|${t.to}|${t.message}`)
  )
}

const Changes: FC<{ transitions: readonly Transition[]; reference: string }> = ({
  transitions,
  reference,
}) => (
  <section class="changes" aria-labelledby="changes-title">
    <h2 id="changes-title">Recent changes</h2>
    {transitions.length === 0 ? (
      <p class="none">none yet</p>
    ) : (
      <table>
        <tbody>
          {withoutEchoes(transitions).map((t) => (
            <tr class={`s-${t.to}`}>
              <td class="when">
                <When iso={t.at} reference={reference} />
              </td>
              <td class="what">
                {t.service}
                {t.instance !== null ? <span class="inst-id">/{t.instance}</span> : null}
              </td>
              <td class="change">
                {t.from !== null ? <>{t.from} → </> : 'appeared as '}
                <Pill status={t.to} />
              </td>
              <td class="msg">{t.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </section>
)

/** The part of the page that changes with health: swapped in whole by the page's script. */
export const LiveContent: FC<PageModel> = ({ doc, summary, transitions }) => {
  const reference = doc.checkedAt
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
      <RootCauses summary={summary} reference={reference} />
      {attention.length > 0 ? (
        <section class="services attention" aria-labelledby="attention-title">
          <h2 id="attention-title">Needs attention ({attention.length})</h2>
          <ul>
            {attention.map((s) => (
              <Service s={s} reference={reference} />
            ))}
          </ul>
        </section>
      ) : null}
      {fine.length > 0 ? (
        <section class="services fine" aria-labelledby="fine-title">
          <h2 id="fine-title">Healthy ({fine.length})</h2>
          <HealthyTable services={fine} reference={reference} />
        </section>
      ) : null}
      <Changes transitions={transitions} reference={reference} />
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
