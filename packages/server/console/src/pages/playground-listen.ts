import { microphone, type PcmSource, type VoxgateClient } from '@voxgate/client'
import { fill, h } from '../dom.ts'
import { errorBox } from '../errors.ts'

/** What the Playground last spoke, kept (in memory) so that Listen can transcribe it back. */
export interface SpokenAudio {
  sampleRate: number
  frames: Float32Array[]
}

/** Silence after the speech, so the recogniser hears the utterance end. */
const TRAILING_SILENCE_SECONDS = 1

/**
 * The Playground's "3. Listen" card: speech-to-text with @voxgate/client's `listen()` over
 * `/stt/websocket`, with the same token (it needs the `stt` grant). The source is the audio the page
 * just spoke (transcribed back, no device needed) or the microphone.
 */
export function listenCard(parts: {
  client: () => VoxgateClient | undefined
  spoken: () => SpokenAudio | undefined
  /** Called when a session ends, to show the token's usage (its audio seconds) again. */
  ended: () => void
}): {
  card: HTMLElement
  tokenChanged: (grants: { stt: boolean }) => void
  stop: () => void
} {
  const source = h(
    'select',
    { id: 'pg-listen-source' },
    h('option', { value: 'spoken' }, 'The speech spoken above'),
    h('option', { value: 'microphone' }, 'The microphone'),
  )
  const button = h('button', { type: 'button', disabled: true, 'aria-describedby': 'pg-listen-hint' }, 'Listen')
  const stopButton = h('button', { type: 'button', hidden: true }, 'Stop listening')
  const hint = h('p', { id: 'pg-listen-hint', class: 'muted' }, 'Mint a token with the stt grant first.')
  const heard = h('output', { id: 'pg-heard', 'aria-live': 'polite', 'aria-label': 'Transcript' })
  const status = h('p', { id: 'pg-listen-status', role: 'status' })
  const error = h('div')
  const card = h(
    'section',
    { class: 'card stack', 'aria-labelledby': 'listen-title' },
    h('h2', { id: 'listen-title' }, '3. Listen'),
    h('label', { for: 'pg-listen-source' }, 'Source'),
    source,
    hint,
    h('div', { class: 'row-actions' }, button, stopButton),
    h('p', {}, h('strong', {}, 'Heard: '), heard),
    status,
    error,
  )
  let stt = false
  let running: { close: () => Promise<string>; cancel: () => void } | undefined

  const pcm = async (): Promise<PcmSource | undefined> => {
    if (source.value === 'microphone') return microphone({ workletUrl: false })
    const spoken = parts.spoken()
    if (!spoken) return undefined
    const frames = [...spoken.frames, new Float32Array(spoken.sampleRate * TRAILING_SILENCE_SECONDS)]
    return {
      sampleRate: spoken.sampleRate,
      frames: (async function* () {
        yield* frames
      })(),
    }
  }

  button.addEventListener('click', () => {
    const client = parts.client()
    if (!client || !stt) return
    void (async () => {
      fill(error)
      heard.textContent = ''
      try {
        const input = await pcm()
        if (!input) {
          status.textContent = 'Speak something first: there is no speech to transcribe yet.'
          return
        }
        const session = client.listen(input)
        running = session
        button.disabled = true
        stopButton.hidden = input === undefined || source.value !== 'microphone'
        status.textContent = 'Listening…'
        session.on('partial', (e) => (heard.textContent = e.transcript))
        session.on('final', (e) => (heard.textContent = e.transcript))
        const text = await session.done
        heard.textContent = text
        status.textContent = text ? 'Done listening.' : 'Done listening: no words heard.'
      } catch (err) {
        status.textContent = 'Failed.'
        fill(error, errorBox(err))
      } finally {
        running = undefined
        button.disabled = !stt
        stopButton.hidden = true
        parts.ended()
      }
    })()
  })
  stopButton.addEventListener('click', () => void running?.close().catch(() => undefined))

  return {
    card,
    tokenChanged: (grants) => {
      stt = grants.stt
      button.disabled = !stt
      hint.textContent = stt
        ? 'Transcribes with the token minted above, over /stt/websocket.'
        : 'The token has no stt grant: mint one with "stt: listen" checked.'
    },
    stop: () => running?.cancel(),
  }
}
