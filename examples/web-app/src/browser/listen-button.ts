import { microphone, SignedOutError, VoxgateClientError, type ListenSession, type VoxgateClient } from '@voxgate/client'
import type { ShowStatus } from './status-line.ts'

/** What the page tells tests about listening; never a token. */
export interface ListenCounters {
  sessions: number
  partials: number
  finals: string[]
  failures: number
  processor: string
  transcript: string
}

export interface ListenControls {
  /** A turn on the page's status line, taken by each listening session. */
  takeStatus: () => ShowStatus
  showError: (message: string) => void
}

/**
 * The Listen button: opens the microphone, streams it to voxgate's speech-to-text socket, and shows
 * the words as they come (grey while partial), with "Listening…" in the status line (replacing what
 * Speak said there). A second click ("Stop listening") stops, keeps the final transcript and says "Done".
 */
export function wireListenButton(client: VoxgateClient, { takeStatus, showError }: ListenControls): ListenCounters {
  const $ = (id: string) => document.querySelector<HTMLElement>(id)!
  const button = $('#listen') as HTMLButtonElement
  const finalText = $('#final')
  const partialText = $('#partial')
  const counters: ListenCounters = { sessions: 0, partials: 0, finals: [], failures: 0, processor: '', transcript: '' }
  let session: ListenSession | undefined
  let showStatus: ShowStatus = () => undefined

  const stopped = (): void => {
    session = undefined
    button.textContent = 'Listen'
    button.disabled = false
  }
  const ended = (): void => {
    showStatus('Done')
    stopped()
  }
  const failed = (err: unknown): void => {
    counters.failures += 1
    showStatus('')
    partialText.textContent = ''
    if (err instanceof SignedOutError) showError('You are signed out. Sign in again to listen.')
    else showError(err instanceof VoxgateClientError ? `Listening failed: ${err.message}` : 'Listening failed.')
    stopped()
  }

  button.addEventListener('click', async () => {
    if (session) {
      button.disabled = true
      await session.close().catch(() => undefined)
      return
    }
    showError('')
    showStatus = takeStatus()
    showStatus('Listening…')
    button.disabled = true
    try {
      // The worklet comes from this app's own origin: the page's CSP allows no blob: scripts.
      const mic = await microphone({ workletUrl: '/assets/capture-worklet.js' })
      counters.processor = mic.processor
      counters.sessions += 1
      finalText.textContent = ''
      const current = (session = client.listen(mic))
      current.on('partial', (e) => {
        counters.partials += 1
        partialText.textContent = e.text
      })
      current.on('final', (e) => {
        counters.finals.push(e.text.trim())
        counters.transcript = finalText.textContent = e.transcript
        partialText.textContent = ''
      })
      current.done.then(ended, failed)
      button.textContent = 'Stop listening'
      button.disabled = false
    } catch (err) {
      failed(err)
    }
  })
  return counters
}
