import type { StreamEvent } from '@voxgate/protocol'

/**
 * One SSE frame: `event:` then ONE single-line `data:` (PROTOCOL.md §5.3; SDK2's parser breaks on
 * multi-line data). JSON.stringify never emits a raw CR or LF, and the event name comes from our own
 * closed union, so a frame can never be split by its content.
 */
/** What voxgate adds to an event: `fallback: "local"` when the gateway's offline fallback speaks. */
export interface EventLabel {
  fallback?: 'local'
}

export function sseFrame(event: StreamEvent, label: EventLabel = {}): string {
  const data = JSON.stringify(label.fallback ? { ...event, fallback: label.fallback } : event)
  if (/[\r\n]/.test(event.type) || /[\r\n]/.test(data)) throw new Error('SSE field with a line break')
  return `event: ${event.type}\ndata: ${data}\n\n`
}
