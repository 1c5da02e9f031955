/**
 * A bounded memory of recently seen keys, oldest forgotten first. The Docker source uses it twice:
 * for events already handled (a `since` replay after a reconnect repeats them) and for containers
 * just destroyed (an inspect answer still on its way must not bring one back).
 */
export class RecentKeys {
  private readonly keys = new Set<string>()

  constructor(private readonly size: number) {}

  /** True when `key` is new (and remembers it). */
  add(key: string): boolean {
    if (this.keys.has(key)) return false
    this.keys.add(key)
    if (this.keys.size > this.size) {
      const oldest = this.keys.values().next()
      if (!oldest.done) this.keys.delete(oldest.value)
    }
    return true
  }

  has(key: string): boolean {
    return this.keys.has(key)
  }
}
