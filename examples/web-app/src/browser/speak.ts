import { TokenSource, VoxgateClient } from '@voxgate/client'
import { wireListenButton, type ListenCounters } from './listen-button.ts'
import { wireSpeakButton, type SpeakCounters } from './speak-button.ts'
import { statusLine } from './status-line.ts'

/** What the page tells tests (and curious developers); never a token. */
type DemoCounters = SpeakCounters & { listen?: ListenCounters }
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
const voice = $<HTMLSelectElement>('#voice')
const error = $<HTMLElement>('#error')

const SIGNED_OUT = 'You are signed out. Sign in again to speak.'

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

function showAccount(me: Me): void {
  const who = $('#who')
  who.textContent = me.email
  // Cut short with an ellipsis when the screen is narrow; the whole address stays in the tooltip.
  who.title = me.email
  $('#mode').textContent =
    me.mode === 'cookie'
      ? 'HttpOnly cookie (the page never sees the token)'
      : 'in memory (held by the SDK, never stored)'
}

function start(me: Me): void {
  showAccount(me)
  fillVoices(me.voices)
  const tokens = new TokenSource({
    endpoint: '/api/voice-token',
    mode: me.mode,
    onSignedOut: () => (error.textContent = SIGNED_OUT),
  })
  const client = new VoxgateClient({ baseUrl: me.voice_api_url, tokens })
  const showError = (message: string) => (error.textContent = message)
  const takeStatus = statusLine($('#status'))
  const speech = wireSpeakButton({ client, takeStatus, showError, signedOutMessage: SIGNED_OUT })
  window.voxgateDemo = speech.counters
  window.voxgateDemo.listen = wireListenButton(client, { takeStatus, showError })

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
      speech.stop()
      location.assign('/sign-in')
    })
  }
}

loadMe().then(
  (me) => me && start(me),
  () => (error.textContent = 'The app could not be reached.'),
)
