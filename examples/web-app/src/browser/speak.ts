import {
  AudioPlayer,
  SignedOutError,
  TokenSource,
  VoxgateClient,
  VoxgateClientError,
  type Transport,
} from '@voxgate/client'
import { wireListenButton, type ListenCounters } from './listen-button.ts'

/** What the page tells tests (and curious developers) about playback; never a token. */
interface DemoCounters {
  speaks: number
  completed: number
  failures: number
  readonly chunks: number
  readonly samples: number
  listen?: ListenCounters
}
declare global {
  interface Window {
    voxgateDemo: DemoCounters
  }
}

interface Me {
  email: string
  mode: 'cookie' | 'memory'
  voice_api_url: string
  voices: { id: string; name: string; language: string }[]
}

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!
const text = $<HTMLTextAreaElement>('#text')
const voice = $<HTMLSelectElement>('#voice')
const transport = $<HTMLSelectElement>('#transport')
const speakButton = $<HTMLButtonElement>('#speak')
const status = $<HTMLElement>('#status')
const error = $<HTMLElement>('#error')

const SIGNED_OUT = 'You are signed out. Sign in again to speak.'

function messageOf(err: unknown): string {
  if (err instanceof SignedOutError) return SIGNED_OUT
  if (err instanceof VoxgateClientError) return `Speech failed: ${err.message}`
  return 'Speech failed.'
}

async function loadMe(): Promise<Me | undefined> {
  const res = await fetch('/api/me', { headers: { accept: 'application/json' } })
  if (res.status === 401) {
    location.assign('/sign-in')
    return undefined
  }
  if (!res.ok) throw new Error(`status ${res.status}`)
  return (await res.json()) as Me
}

function fillVoices(voices: Me['voices']): void {
  for (const v of voices) voice.add(new Option(`${v.name} (${v.language})`, v.id))
  const english = voices.findIndex((v) => v.language.startsWith('en'))
  if (english >= 0) voice.selectedIndex = english
}

function start(me: Me): void {
  $('#who').textContent = me.email
  $('#mode').textContent =
    me.mode === 'cookie'
      ? 'HttpOnly cookie (the page never sees the token)'
      : 'in memory (held by the SDK, never stored)'
  fillVoices(me.voices)
  const tokens = new TokenSource({
    endpoint: '/api/voice-token',
    mode: me.mode,
    onSignedOut: () => (error.textContent = SIGNED_OUT),
  })
  const client = new VoxgateClient({ baseUrl: me.voice_api_url, tokens })
  let player: AudioPlayer | undefined
  const demo = {
    speaks: 0,
    completed: 0,
    failures: 0,
    get chunks() {
      return player?.chunksScheduled ?? 0
    },
    get samples() {
      return player?.samplesScheduled ?? 0
    },
  }
  window.voxgateDemo = demo
  window.voxgateDemo.listen = wireListenButton(client, (message) => (error.textContent = message))

  speakButton.addEventListener('click', async () => {
    // The AudioContext is created inside the click, so browsers let it play.
    player ??= new AudioPlayer({ context: new AudioContext() })
    error.textContent = ''
    status.textContent = 'Speaking…'
    speakButton.disabled = true
    demo.speaks += 1
    const before = player.chunksScheduled
    try {
      const stream = client.speak(
        {
          model_id: 'sonic-3',
          transcript: text.value,
          voice: { id: voice.value },
          output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 24_000 },
        },
        { transport: transport.value as Transport },
      )
      await player.play(stream)
      demo.completed += 1
      status.textContent = `Done: ${player.chunksScheduled - before} chunks over ${transport.selectedOptions[0]?.text ?? transport.value}.`
    } catch (err) {
      demo.failures += 1
      status.textContent = ''
      error.textContent = messageOf(err)
    } finally {
      speakButton.disabled = false
    }
  })

  // Everywhere: every session of this account ends and every voice token it was given is revoked.
  for (const [button, route] of [
    ['#sign-out', '/api/sign-out'],
    ['#sign-out-everywhere', '/api/sign-out-everywhere'],
  ] as const) {
    $(button).addEventListener('click', async () => {
      await fetch(route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(
        () => undefined,
      )
      tokens.close()
      client.close()
      player?.stop()
      location.assign('/sign-in')
    })
  }
}

loadMe().then(
  (me) => me && start(me),
  () => (error.textContent = 'The app could not be reached.'),
)
