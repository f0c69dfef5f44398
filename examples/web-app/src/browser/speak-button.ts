import {
  AudioPlayer,
  SignedOutError,
  VoxgateClientError,
  type SpeakRequest,
  type SpeechStream,
  type Transport,
  type VoxgateClient,
} from '@voxgate/client'
import type { ShowStatus } from './status-line.ts'

/** What the page tells tests (and curious developers) about playback; never a token. */
export interface SpeakCounters {
  speaks: number
  /** Speeches whose audio has finished playing. */
  completed: number
  failures: number
  /** Speeches ended by the Stop button. */
  stopped: number
  readonly chunks: number
  readonly samples: number
  /** Seconds of audio scheduled so far, all speeches together. */
  readonly seconds: number
  /** Seconds of audio scheduled and not yet played: 0 once playback has ended or been stopped. */
  readonly bufferedSeconds: number
}

export interface SpeakControls {
  client: VoxgateClient
  /** A turn on the page's status line, taken by each speech. */
  takeStatus: () => ShowStatus
  showError: (message: string) => void
  signedOutMessage: string
}

/** One speech: its stream, its turn on the status line, and the signal Stop fires. */
interface Speech {
  stream: SpeechStream
  showStatus: ShowStatus
  stopped: AbortController
}

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!

function request(): SpeakRequest {
  return {
    model_id: 'sonic-3',
    transcript: $<HTMLTextAreaElement>('#text').value,
    voice: { id: $<HTMLSelectElement>('#voice').value },
    output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 24_000 },
  }
}

/** Resolves once everything scheduled has been heard, or at once when the speech is stopped. */
async function playedOut(player: AudioPlayer, stopped: AbortSignal): Promise<void> {
  while (!stopped.aborted && player.bufferedSeconds > 0) {
    const waitMs = Math.min(player.bufferedSeconds * 1000, 250) + 10
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        stopped.removeEventListener('abort', wake)
        resolve()
      }
      const timer = setTimeout(wake, waitMs)
      stopped.addEventListener('abort', wake)
    })
  }
}

/**
 * Speak and Stop. Speak streams the text over the chosen transport into the player and says
 * "Speaking…", then "Done" once the audio has finished playing (not when the last byte arrives);
 * Stop ends the stream and silences what is scheduled: "Stopped".
 */
export function wireSpeakButton(controls: SpeakControls): { counters: SpeakCounters; stop(): void } {
  const speakButton = $<HTMLButtonElement>('#speak')
  const stopButton = $<HTMLButtonElement>('#stop')
  let player: AudioPlayer | undefined
  let current: Speech | undefined
  const counters: SpeakCounters = {
    speaks: 0,
    completed: 0,
    failures: 0,
    stopped: 0,
    get chunks() {
      return player?.chunksScheduled ?? 0
    },
    get samples() {
      return player?.samplesScheduled ?? 0
    },
    get seconds() {
      return player?.secondsScheduled ?? 0
    },
    get bufferedSeconds() {
      return player?.bufferedSeconds ?? 0
    },
  }
  const messageOf = (err: unknown): string => {
    if (err instanceof SignedOutError) return controls.signedOutMessage
    if (err instanceof VoxgateClientError) return `Speech failed: ${err.message}`
    return 'Speech failed.'
  }
  const stop = (): void => {
    current?.stopped.abort()
    current?.stream.cancel()
    player?.stop()
  }

  speakButton.addEventListener('click', async () => {
    // The AudioContext is created inside the click, so browsers let it play.
    player ??= new AudioPlayer({ context: new AudioContext() })
    const transport = $<HTMLSelectElement>('#transport').value as Transport
    const speech: Speech = {
      stream: controls.client.speak(request(), { transport }),
      showStatus: controls.takeStatus(),
      stopped: new AbortController(),
    }
    current = speech
    controls.showError('')
    speech.showStatus('Speaking…')
    speakButton.disabled = true
    stopButton.disabled = false
    counters.speaks += 1
    try {
      await player.play(speech.stream)
      await playedOut(player, speech.stopped.signal)
      if (speech.stopped.signal.aborted) return
      counters.completed += 1
      speech.showStatus('Done')
    } catch (err) {
      counters.failures += 1
      speech.showStatus('')
      controls.showError(messageOf(err))
    } finally {
      current = undefined
      speakButton.disabled = false
      stopButton.disabled = true
    }
  })

  stopButton.addEventListener('click', () => {
    if (!current) return
    current.showStatus('Stopped')
    counters.stopped += 1
    stop()
  })
  return { counters, stop }
}
