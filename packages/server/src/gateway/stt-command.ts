import { VoxgateError } from '@voxgate/protocol'
import { SttTurnsCommand } from '@voxgate/protocol/schemas'
import { checkNoDuplicateKeys } from './duplicate-keys.ts'

/** Which STT socket a command came on: `/stt/websocket` (bare words) or `/stt/turns/websocket` (JSON). */
export type SttCommandKind = 'manual' | 'turns'

/** The manual socket's commands; `done` is the older name of `close` (PROTOCOL-STT.md). */
const MANUAL_COMMANDS = new Set(['finalize', 'close', 'done'])

/**
 * A client's text frame on a relayed STT socket, read as the local socket reads it
 * (stt/manual-socket.ts, stt/turns-socket.ts), and the text that goes upstream in its place: the
 * command as voxgate understood it, never the client's bytes. Throws the local socket's
 * `invalid_request` for anything else (the socket stays open, as locally).
 */
export function readSttCommand(text: string, kind: SttCommandKind): string {
  return kind === 'manual' ? manualCommand(text) : turnsCommand(text)
}

function manualCommand(text: string): string {
  // The SDK sends the bare word; a client that JSON-encodes it is understood too.
  const command = text.trim().replace(/^"(.*)"$/, '$1')
  if (MANUAL_COMMANDS.has(command)) return command
  throw new VoxgateError(
    'invalid_request',
    'Unknown command: send binary audio frames, or the text "finalize" or "close".',
  )
}

function turnsCommand(text: string): string {
  let msg: unknown
  try {
    msg = JSON.parse(text)
  } catch {
    throw new VoxgateError('invalid_request', 'The message is not valid JSON.')
  }
  checkNoDuplicateKeys(text)
  if (!SttTurnsCommand.safeParse(msg).success)
    throw new VoxgateError(
      'invalid_request',
      'Unknown command: send {"type":"close"} or {"type":"config","turn":{…}} (thresholds within their documented ranges).',
    )
  return JSON.stringify(msg)
}
