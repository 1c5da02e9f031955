/**
 * The services on the status page: the root causes first, then the services that need
 * attention (a card each, with instances), then the healthy ones (a compact table).
 */
import type { FC } from 'hono/jsx'

import { listNames, type HealthSummary, type ServiceSummary } from '../client/index.js'
import type { InstanceView } from '../wire/health-document.js'

import { Message, Pill, When, type MessageBook } from './parts.js'

/** What every part of the live content needs besides its own data. */
export interface Shared {
  /** The document's `checkedAt`: times on that day are shown as a clock only. */
  reference: string
  book: MessageBook
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

export const RootCauses: FC<{ summary: HealthSummary; shared: Shared }> = ({ summary, shared }) => {
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
            <span class="msg">
              <Message text={s.message} book={shared.book} id={`cause:${s.name}`} />
            </span>
            <span class="since">
              {' '}
              · since <When iso={s.since} reference={shared.reference} />
            </span>
            <Consequences cause={s} summary={summary} />
          </li>
        ))}
      </ul>
    </section>
  )
}

function instanceFacts(i: InstanceView, showHost: boolean): string[] {
  const facts: string[] = []
  if (showHost) facts.push(`on ${i.host}`)
  if (i.docker) {
    facts.push(`container ${i.docker.state}`)
    if (i.docker.health !== 'none') facts.push(`healthcheck ${i.docker.health}`)
    if (i.docker.recentRestarts > 0) facts.push(`${i.docker.recentRestarts} recent restarts`)
  }
  if (i.heartbeat) facts.push(i.heartbeat.reported === null ? 'heartbeat expected' : 'heartbeat')
  return facts
}

const Instances: FC<{ s: ServiceSummary; shared: Shared }> = ({ s, shared }) => {
  const { total, byStatus } = s.instances
  if (total === 0) return <p class="instances none">no instances</p>
  const notHealthy = total - byStatus.healthy
  const label =
    notHealthy === 0
      ? `${total} ${total === 1 ? 'instance' : 'instances'}, all healthy`
      : `${total} ${total === 1 ? 'instance' : 'instances'}, ${notHealthy} not healthy`
  // Where instances run on more than one host (a hub's document), say which is where.
  const showHost = new Set(s.view.instances.map((i) => i.host)).size > 1
  return (
    <details class="instances" open={s.status !== 'healthy'} data-key={`inst:${s.name}`}>
      <summary>{label}</summary>
      <ul>
        {s.view.instances.map((i) => (
          <li class={`inst s-${i.status}`}>
            <Pill status={i.status} /> <code class="id">{i.id}</code>{' '}
            {/* The service's message already says it (a service of one instance). */}
            {i.message !== s.message ? (
              <span class="msg">
                <Message text={i.message} book={shared.book} id={`inst:${s.name}/${i.id}`} />
              </span>
            ) : null}{' '}
            <span class="facts">{instanceFacts(i, showHost).join(' · ')}</span>
          </li>
        ))}
      </ul>
    </details>
  )
}

const Tags: FC<{ s: ServiceSummary }> = ({ s }) => (
  <>
    {s.kind === 'job' ? <span class="tag">job</span> : null}
    {!s.critical ? <span class="tag">non-critical</span> : null}
    {s.flapping ? <span class="tag warn">flapping</span> : null}
  </>
)

const Service: FC<{ s: ServiceSummary; shared: Shared }> = ({ s, shared }) => (
  <li class={`svc s-${s.status} role-${s.role}`} id={`svc-${s.name}`}>
    <div class="svc-head">
      <Pill status={s.status} />
      <h3 class="name">{s.name}</h3>
      <Tags s={s} />
      {s.role === 'root-cause' ? <span class="tag cause">root cause</span> : null}
      <span class="since">
        {s.status} since <When iso={s.since} reference={shared.reference} />
      </span>
    </div>
    <div class="msg">
      <Message text={s.message} book={shared.book} id={`svc:${s.name}`} />
    </div>
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
    <Instances s={s} shared={shared} />
    {s.view.dependsOn.length > 0 ? (
      <p class="deps">depends on {listNames(s.view.dependsOn, 8)}</p>
    ) : null}
  </li>
)

export const Attention: FC<{ services: readonly ServiceSummary[]; shared: Shared }> = ({
  services,
  shared,
}) => (
  <section class="services attention" aria-labelledby="attention-title">
    <h2 id="attention-title">Needs attention ({services.length})</h2>
    <ul>
      {services.map((s) => (
        <Service s={s} shared={shared} />
      ))}
    </ul>
  </section>
)

/** Healthy services, one compact row each: the eye goes to what is broken. */
export const HealthyTable: FC<{ services: readonly ServiceSummary[]; shared: Shared }> = ({
  services,
  shared,
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
            <Tags s={s} />
          </td>
          <td class="msg">
            <Message text={s.message} book={shared.book} id={`svc:${s.name}`} />
            {s.role === 'at-risk' ? (
              <span class="risk">
                {' '}
                · at risk: {listNames(s.rootCauses, 4)} {s.rootCauses.length === 1 ? 'is' : 'are'}{' '}
                unhealthy
              </span>
            ) : null}
            {s.instances.total > 1 ? <Instances s={s} shared={shared} /> : null}
          </td>
          <td class="since">
            since <When iso={s.since} reference={shared.reference} />
          </td>
        </tr>
      ))}
    </tbody>
  </table>
)
