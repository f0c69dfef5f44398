import { VoxgateError, type SttTurnEvent, type SttWord } from '@voxgate/protocol'
import { SttTurnsCommand, type TurnSettings } from '@voxgate/protocol/schemas'
import { SttSocket, type RecognitionMessage, type SttSocketInit } from './socket.ts'

const CLOSE_NORMAL = 1000
/**
 * Seconds of further silence, after the recogniser's voice-activity detector has ended an utterance
 * (itself after 0.5 s of silence), before an eager end becomes the turn's end. Speech within it
 * resumes the turn. Measured on the audio received, not the wall clock, so it is the same at any speed.
 */
export const TURN_END_SILENCE_SECONDS = 0.5

type TurnState = { kind: 'idle' } | { kind: 'speaking'; text: string } | { kind: 'eager'; text: string; at: number }

/**
 * `/stt/turns/websocket`, Cartesia's "Realtime STT (Auto)": turns cut by the recogniser's
 * voice-activity detection. JSON commands `{"type":"close"}` and `{"type":"config","turn":{…}}`;
 * events `connected`, `turn.start`, `turn.update` (cumulative), `turn.eager_end`, `turn.resume`,
 * `turn.end`. The thresholds are accepted and kept; PocketSphinx's detector has no tunable
 * probabilities, so they do not change where turns end.
 */
export class TurnsSttSocket extends SttSocket {
  #turn: TurnState = { kind: 'idle' }
  settings: TurnSettings

  constructor(init: SttSocketInit, settings: TurnSettings) {
    super(init)
    this.settings = settings
    if (!init.tookOver) this.#emit({ type: 'connected', request_id: this.requestId })
  }

  protected onText(text: string): void {
    let command: SttTurnsCommand
    try {
      command = SttTurnsCommand.parse(JSON.parse(text))
    } catch {
      return this.sendError(
        new VoxgateError(
          'invalid_request',
          'Unknown command: send {"type":"close"} or {"type":"config","turn":{…}} (thresholds within their documented ranges).',
        ),
      )
    }
    if (this.ending) return
    if (command.type === 'config') {
      this.settings = { ...this.settings, ...command.turn }
      return
    }
    this.ending = true
    this.recognizer.send({ type: 'end' })
  }

  protected onRecognition(msg: RecognitionMessage): void {
    switch (msg.type) {
      case 'speech_start':
        return this.#speech()
      case 'partial':
        return this.#partial(msg.text)
      case 'final':
        return this.#final(msg.words, msg.reason === 'end', msg.seconds)
      case 'ended':
        return this.close(CLOSE_NORMAL)
    }
  }

  /** The audio clock: an eager end that has seen enough further silence becomes the turn's end. */
  protected override onProgress(seconds: number): void {
    const t = this.#turn
    if (t.kind === 'eager' && seconds - t.at >= TURN_END_SILENCE_SECONDS) this.#end(t.text)
  }

  #speech(): void {
    const t = this.#turn
    if (t.kind === 'idle') {
      this.#turn = { kind: 'speaking', text: '' }
      this.#emit({ type: 'turn.start', request_id: this.requestId })
    } else if (t.kind === 'eager') {
      this.#turn = { kind: 'speaking', text: t.text }
      this.#emit({ type: 'turn.resume', request_id: this.requestId })
    }
  }

  #partial(text: string): void {
    this.#speech()
    const t = this.#turn
    if (t.kind === 'speaking')
      this.#emit({ type: 'turn.update', transcript: join(t.text, text), request_id: this.requestId })
  }

  #final(words: SttWord[], last: boolean, seconds: number): void {
    const said = words.map((w) => w.word).join(' ')
    if (this.#turn.kind === 'idle' && said) this.#speech()
    const t = this.#turn
    if (t.kind === 'idle') return
    const text = join(t.text, said)
    if (last || !text) return this.#end(text)
    this.#turn = { kind: 'eager', text, at: seconds }
    this.#emit({ type: 'turn.eager_end', transcript: text, request_id: this.requestId })
  }

  #end(text: string): void {
    this.#turn = { kind: 'idle' }
    this.#emit({ type: 'turn.end', transcript: text, request_id: this.requestId })
  }

  #emit(event: SttTurnEvent): void {
    this.send(event)
  }
}

const join = (a: string, b: string): string => (a && b ? `${a} ${b}` : a || b)
