/**
 * Small pieces of the status page: a status pill, a time, and a message that is shown in full
 * once and collapsed wherever it appears again.
 */
import type { FC } from 'hono/jsx'

import type { Status } from '../model/status.js'

/** A glyph per status, so colour is never the only signal. */
export const GLYPH: Record<Status, string> = {
  healthy: '✓',
  degraded: '!',
  starting: '…',
  unknown: '?',
  unhealthy: '✕',
}

/** `10:01:02 UTC` on the day of `reference`, else `2026-11-20 10:01 UTC`; the script localizes. */
export function clockOf(iso: string, reference: string): string {
  const sameDay = iso.slice(0, 10) === reference.slice(0, 10)
  return sameDay ? `${iso.slice(11, 19)} UTC` : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
}

export const Pill: FC<{ status: Status }> = ({ status }) => (
  <span class={`pill s-${status}`}>
    <span class="glyph" aria-hidden="true">
      {GLYPH[status]}
    </span>{' '}
    {status}
  </span>
)

export const When: FC<{ iso: string; reference: string }> = ({ iso, reference }) => (
  <time datetime={iso} data-rel="">
    {clockOf(iso, reference)}
  </time>
)

/** Longer than this, a message is shown in full once, and collapsed everywhere else. */
export const LONG_MESSAGE = 80
const PREVIEW = 60

/**
 * Which long messages the page has already shown in full. Components render in document order,
 * so the topmost place that shows a message shows it in full; one already shown, or contained
 * in one already shown ("1 of 2 instances unhealthy: <it>"), is collapsed after that.
 * One book per render.
 */
export class MessageBook {
  private readonly shown: string[] = []

  showInFull(text: string): boolean {
    if (text.length <= LONG_MESSAGE) return true
    if (this.shown.some((t) => t.includes(text))) return false
    this.shown.push(text)
    return true
  }
}

export function previewOf(text: string): string {
  const cut = text.slice(0, PREVIEW)
  const space = cut.lastIndexOf(' ')
  return `${space > PREVIEW - 20 ? cut.slice(0, space) : cut}…`
}

/**
 * A message: in full, or (when the page already showed it) a one-line preview that opens to
 * the whole text. `id` keeps a reader's open message open across live updates.
 */
export const Message: FC<{ text: string; book: MessageBook; id: string }> = ({
  text,
  book,
  id,
}) => {
  if (book.showInFull(text)) return <span class="text">{text}</span>
  return (
    <details class="long" data-key={`msg:${id}`}>
      <summary>
        <span class="preview">{previewOf(text)}</span>
        <span class="less">show less</span>
      </summary>
      <span class="text">{text}</span>
    </details>
  )
}
