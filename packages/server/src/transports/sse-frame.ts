import type { StreamEvent } from '@voxgate/protocol'

/**
 * One SSE frame: `event:` then ONE single-line `data:` (PROTOCOL.md §5.3; SDK2's parser breaks on
 * multi-line data). JSON.stringify never emits a raw CR or LF, and the event name comes from our own
 * closed union, so a frame can never be split by its content.
 */
export function sseFrame(event: StreamEvent): string {
  const data = JSON.stringify(event)
  if (/[\r\n]/.test(event.type) || /[\r\n]/.test(data)) throw new Error('SSE field with a line break')
  return `event: ${event.type}\ndata: ${data}\n\n`
}
