/**
 * Status transitions of one service and its instances, as the store re-judges it: into the
 * bounded history (which also knows `since` and flapping) and, per service, one log line.
 */
import type { Logger } from '../logger.js'
import type { JudgedService } from '../model/judged.js'

import type { History } from './history.js'

export function recordTransitions(
  history: History,
  log: Logger,
  before: JudgedService | null,
  after: JudgedService | null,
  now: number
): void {
  if (after === null) {
    if (before === null) return
    history.drop(before.name)
    log.info({ service: before.name }, 'service no longer reported')
    return
  }
  // Instances first, so that newest-first the service's own line leads.
  if (before) {
    const was = new Map(before.instances.map((i) => [i.id, i.status]))
    for (const i of after.instances) {
      const from = was.get(i.id)
      if (from === undefined || from === i.status) continue
      history.record({
        at: now,
        service: after.name,
        instance: i.id,
        from,
        to: i.status,
        message: i.message,
      })
    }
  }
  if (before?.status === after.status) return
  history.record({
    at: now,
    service: after.name,
    instance: null,
    from: before?.status ?? null,
    to: after.status,
    message: after.message,
  })
  if (before) {
    log.info(
      { service: after.name, from: before.status, to: after.status, reason: after.message },
      'service status changed'
    )
  }
}
