/** "Recent changes" on the status page: the last transitions, newest first. */
import type { FC } from 'hono/jsx'

import type { Transition } from '../wire/health-document.js'

import { Message, Pill, When } from './parts.js'
import type { Shared } from './services.js'

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

export const Changes: FC<{ transitions: readonly Transition[]; shared: Shared }> = ({
  transitions,
  shared,
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
                <When iso={t.at} reference={shared.reference} />
              </td>
              <td class="what">
                {t.service}
                {t.instance !== null ? <span class="inst-id">/{t.instance}</span> : null}
              </td>
              <td class="change">
                {t.from !== null ? <>{t.from} → </> : 'appeared as '}
                <Pill status={t.to} />
              </td>
              <td class="msg">
                <Message
                  text={t.message}
                  book={shared.book}
                  id={`change:${t.at}|${t.service}|${t.instance ?? ''}`}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </section>
)
