/**
 * The last few changes the hub sent, by ETag: which services each one touched. A client that
 * resumes from one of these tags is sent one delta with every service changed since, instead of
 * the whole document; a hub following many bridges reconnects cheaply after a blip.
 */
const CAPACITY = 64

interface Step {
  from: string | null
  to: string
  names: readonly string[]
}

export class ResumeLog {
  private steps: Step[] = []
  private latest: string | null = null

  /** The ETag the hub's streams are at (the last change recorded). */
  get current(): string | null {
    return this.latest
  }

  /** Starts over from `etag` (when the hub (re)subscribes), or forgets everything (null). */
  reset(etag: string | null): void {
    this.steps = []
    this.latest = etag
  }

  record(to: string, names: readonly string[]): void {
    this.steps.push({ from: this.latest, to, names })
    if (this.steps.length > CAPACITY) this.steps.shift()
    this.latest = to
  }

  /**
   * The services changed since the document tagged `etag`, or null when that tag is not one the
   * log can continue from. An ETag can recur (A, B, A): the latest occurrence counts, since the
   * drawn state was the same at both.
   */
  since(etag: string): Set<string> | null {
    for (let i = this.steps.length - 1; i >= 0; i--) {
      if (this.steps[i]?.from !== etag) continue
      const names = new Set<string>()
      for (const step of this.steps.slice(i)) for (const n of step.names) names.add(n)
      return names
    }
    return null
  }
}
