import { VoxgateError, type SttTranscriptEvent, type SttWord } from '@voxgate/protocol'
import { SttSocket, type RecognitionMessage } from './socket.ts'

const CLOSE_NORMAL = 1000

/**
 * `/stt/websocket`, Cartesia's "Realtime STT (Manual)": binary audio in; plain-text commands
 * `finalize` (→ finals, then `flush_done`) and `close` (or the older `done`; → last finals, `done`,
 * close). Partials while audio arrives; a final whenever the recogniser hears an utterance end.
 */
export class ManualSttSocket extends SttSocket {
  /** Finals sent: every one after the first carries its leading space. */
  #finals = 0

  protected onText(text: string): void {
    // The SDK sends the bare words; a client that JSON-encodes them is understood too.
    const command = text.trim().replace(/^"(.*)"$/, '$1')
    if (this.ending) return
    if (command === 'finalize') return this.recognizer.send({ type: 'finalize' })
    if (command === 'close' || command === 'done') {
      this.ending = true
      return this.recognizer.send({ type: 'end' })
    }
    this.sendError(
      new VoxgateError(
        'invalid_request',
        'Unknown command: send binary audio frames, or the text "finalize" or "close".',
      ),
    )
  }

  protected onRecognition(msg: RecognitionMessage): void {
    switch (msg.type) {
      case 'partial':
        return this.#transcript(msg.text, false)
      case 'final':
        return this.#final(msg.words, msg.seconds)
      case 'flushed':
        return this.send({ type: 'flush_done', request_id: this.requestId })
      case 'ended':
        this.send({ type: 'done', request_id: this.requestId })
        return this.close(CLOSE_NORMAL)
    }
  }

  #final(words: SttWord[], seconds: number): void {
    if (words.length === 0) return
    this.#transcript(words.map((w) => w.word).join(' '), true, { duration: seconds, language: 'en', words })
    this.#finals++
  }

  #transcript(text: string, isFinal: boolean, extra: Partial<SttTranscriptEvent> = {}): void {
    const event: SttTranscriptEvent = {
      type: 'transcript',
      is_final: isFinal,
      request_id: this.requestId,
      text: this.#finals > 0 ? ` ${text}` : text,
      ...extra,
    }
    this.send(event)
  }
}
