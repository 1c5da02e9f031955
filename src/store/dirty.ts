/**
 * What the next re-judge must cover: services whose status may have changed (re-judged this
 * turn), services whose bookkeeping only moved (lastSeenAt, details: may wait for the lazy
 * flush), and the document's header (the sources' states). A service is in one set, never
 * both; marking asks the scheduler for the flush its urgency needs.
 */
export type Urgency = 'now' | 'lazy'

export class DirtyServices {
  private readonly urgent: Set<string>
  private readonly lazy = new Set<string>()
  private header: Urgency | null = 'now'

  /** `initial`: re-judged at the first flush, without asking for one (nothing observed yet). */
  constructor(
    private readonly schedule: (urgency: Urgency) => void,
    initial: Iterable<string>
  ) {
    this.urgent = new Set(initial)
  }

  /** Whether a read must re-judge before it answers. */
  get urgentPending(): boolean {
    return this.urgent.size > 0 || this.header === 'now'
  }

  mark(names: Iterable<string>, urgency: Urgency): void {
    for (const name of names) {
      if (urgency === 'now') {
        this.urgent.add(name)
        this.lazy.delete(name)
      } else if (!this.urgent.has(name)) this.lazy.add(name)
    }
    this.schedule(urgency)
  }

  markHeader(urgency: Urgency): void {
    if (urgency === 'now' || this.header === null) this.header = urgency
    this.schedule(urgency)
  }

  /**
   * Takes the services to re-judge: the urgent ones, `also` (context changes, deadlines), and
   * with `all` the lazy ones too. In name order, as a from-scratch judgement records transitions.
   */
  take(all: boolean, also: Iterable<string>): string[] {
    const taken = new Set(this.urgent)
    this.urgent.clear()
    for (const name of also) taken.add(name)
    if (all) for (const name of this.lazy) taken.add(name)
    for (const name of taken) this.lazy.delete(name)
    return [...taken].sort()
  }

  /** Takes the header's mark if this flush covers it (`all`, or it is urgent). */
  takeHeader(all: boolean): boolean {
    const taken = this.header !== null && (all || this.header === 'now')
    if (taken) this.header = null
    return taken
  }
}
