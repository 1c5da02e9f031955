/**
 * Polls `check` until it returns a truthy value (which is returned) or `timeoutMs` passes.
 * Use it instead of sleeps: it is as fast as the system and says what it was waiting for.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  const intervalMs = opts.intervalMs ?? 20
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value
      last = value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'} (last: ${detail})`
      )
    }
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
