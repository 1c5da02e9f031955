/**
 * When each service next changes by time alone, in a binary min-heap: the store arms one timer
 * at the earliest, and a read past it re-judges only the services that are due. A key's newer
 * deadline replaces its older one lazily: the old heap entry stays until it surfaces and is
 * skipped, so `set` is O(log n) and never searches the heap.
 */
interface Entry {
  at: number
  key: string
}

export class DeadlineQueue {
  private readonly heap: Entry[] = []
  /** The one live deadline of each key; heap entries that disagree with it are stale. */
  private readonly live = new Map<string, number>()

  get size(): number {
    return this.live.size
  }

  /** Sets (or with null, clears) the deadline of `key`. */
  set(key: string, at: number | null): void {
    if (at === null) {
      this.live.delete(key)
      return
    }
    if (this.live.get(key) === at) return
    this.live.set(key, at)
    this.push({ at, key })
    // Stale entries surface only at their own instant; rebuild before they pile up.
    if (this.heap.length > 2 * this.live.size + 64) this.compact()
  }

  /** The earliest live deadline, or null. */
  peek(): number | null {
    this.dropStale()
    return this.heap[0]?.at ?? null
  }

  /** Removes and returns the keys whose deadline is at or before `now`, earliest first. */
  popDue(now: number): string[] {
    const due: string[] = []
    for (;;) {
      this.dropStale()
      const top = this.heap[0]
      if (top === undefined || top.at > now) return due
      this.pop()
      this.live.delete(top.key)
      due.push(top.key)
    }
  }

  clear(): void {
    this.heap.length = 0
    this.live.clear()
  }

  private compact(): void {
    this.heap.length = 0
    for (const [key, at] of this.live) this.push({ at, key })
  }

  private dropStale(): void {
    for (let top = this.heap[0]; top !== undefined; top = this.heap[0]) {
      if (this.live.get(top.key) === top.at) return
      this.pop()
    }
  }

  private push(entry: Entry): void {
    const h = this.heap
    h.push(entry)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = h[parent] as Entry
      if (p.at <= entry.at) break
      h[i] = p
      i = parent
    }
    h[i] = entry
  }

  private pop(): void {
    const h = this.heap
    const last = h.pop()
    if (last === undefined || h.length === 0) return
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= h.length) break
      const right = left + 1
      const child =
        right < h.length && (h[right] as Entry).at < (h[left] as Entry).at ? right : left
      if ((h[child] as Entry).at >= last.at) break
      h[i] = h[child] as Entry
      i = child
    }
    h[i] = last
  }
}
