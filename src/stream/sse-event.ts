/** Server-Sent Events framing, as the bridge writes it. */

export const SSE_DATA_PREFIX = 'data: '

/** Serializes one SSE event; `data` may hold newlines (each becomes its own `data:` line). */
export function sseEvent(fields: {
  event?: string
  id?: string
  retry?: number
  data?: string
}): string {
  let out = ''
  if (fields.retry !== undefined) out += `retry: ${fields.retry}\n`
  if (fields.id !== undefined) out += `id: ${fields.id.replace(/[\r\n\0]/g, '')}\n`
  if (fields.event !== undefined) out += `event: ${fields.event}\n`
  if (fields.data !== undefined)
    for (const line of fields.data.split(/\r\n|\r|\n/)) out += `${SSE_DATA_PREFIX}${line}\n`
  return `${out}\n`
}
