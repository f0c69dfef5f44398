import { AudioPlayer, TokenSource, VoxgateClient, type Transport } from '@voxgate/client'
import { api } from '../api.ts'
import { fill, h } from '../dom.ts'
import { attempt, errorBox } from '../errors.ts'
import { count, duration } from '../format.ts'
import type { Session } from './index.ts'
import { listenCard, type SpokenAudio } from './playground-listen.ts'

/** The claims of a JWT, read without checking it (the server checks it): never the token itself. */
function claimsOf(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? ''
  const json = atob(
    part
      .replaceAll('-', '+')
      .replaceAll('_', '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '='),
  )
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>
}

/**
 * Mint a token through the server with chosen grants, lifetime, `sub` and limits, then speak with
 * @voxgate/client in this page. The token lives only inside the client's TokenSource (memory): the
 * page shows its decoded claims and its usage, never the token.
 */
export function playground(section: HTMLElement, session: Session): () => void {
  const tts = h('input', { type: 'checkbox', id: 'grant-tts', checked: true })
  const voicesGrant = h('input', { type: 'checkbox', id: 'grant-voices', checked: true })
  const stt = h('input', { type: 'checkbox', id: 'grant-stt' })
  const lifetime = h('input', {
    id: 'pg-lifetime',
    type: 'number',
    min: 1,
    max: 3600,
    value: 300,
    inputmode: 'numeric',
  })
  const sub = h('input', { id: 'pg-sub', autocomplete: 'off', value: 'playground', maxlength: 256 })
  const characters = h('input', { id: 'pg-characters', type: 'number', min: 1, value: 1000, inputmode: 'numeric' })
  const concurrent = h('input', {
    id: 'pg-concurrent',
    type: 'number',
    min: 1,
    max: 100,
    value: 2,
    inputmode: 'numeric',
  })
  const mintButton = h('button', { type: 'submit' }, 'Mint token')
  const mintError = h('div')
  const mintForm = h(
    'form',
    { class: 'card stack', 'aria-labelledby': 'mint-title' },
    h('h2', { id: 'mint-title' }, '1. Mint a token'),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Grants'),
      h('label', { class: 'check' }, tts, ' tts: speak'),
      h('label', { class: 'check' }, voicesGrant, ' voices: list voices'),
      h('label', { class: 'check' }, stt, ' stt: listen'),
    ),
    h('label', { for: 'pg-lifetime' }, 'Lifetime (seconds, at most 3600)'),
    lifetime,
    h('label', { for: 'pg-sub' }, 'End-user (sub)'),
    sub,
    h('label', { for: 'pg-characters' }, 'Characters budget'),
    characters,
    h('label', { for: 'pg-concurrent' }, 'Streams open at once'),
    concurrent,
    mintButton,
    mintError,
  )
  const claims = h(
    'pre',
    { id: 'pg-claims', class: 'claims', tabindex: 0, 'aria-label': 'Decoded claims' },
    'No token yet.',
  )
  const voice = h('select', { id: 'pg-voice', disabled: true }, h('option', { value: '' }, 'Mint a token first'))
  const transport = h(
    'select',
    { id: 'pg-transport' },
    (['websocket', 'sse', 'bytes'] as Transport[]).map((t) => h('option', { value: t }, t)),
  )
  const text = h('textarea', { id: 'pg-text', rows: 3, maxlength: 1000 }, 'Hello from the voxgate console.')
  const speakButton = h('button', { type: 'button', disabled: true }, 'Speak')
  const spoken = h('p', { id: 'pg-status', role: 'status' })
  const usage = h('dl', { class: 'figures', id: 'pg-usage' })
  const speakError = h('div')
  const speakCard = h(
    'section',
    { class: 'card stack', 'aria-labelledby': 'speak-title' },
    h('h2', { id: 'speak-title' }, '2. Speak'),
    h('label', { for: 'pg-voice' }, 'Voice'),
    voice,
    h('label', { for: 'pg-transport' }, 'Transport'),
    transport,
    h('label', { for: 'pg-text' }, 'Text'),
    text,
    speakButton,
    spoken,
    speakError,
  )
  let client: VoxgateClient | undefined
  /** The last speech, for Listen to transcribe back; replaced by each Speak. */
  let spokenAudio: SpokenAudio | undefined
  const listen = listenCard({
    client: () => client,
    spoken: () => spokenAudio,
    ended: () => void showUsage().catch(() => undefined),
  })
  if (session.scope !== 'admin') section.append(h('p', { class: 'muted' }, 'Minting needs an admin session.'))
  section.append(
    h(
      'div',
      { class: 'grid' },
      mintForm,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'claims-title' },
        h('h2', { id: 'claims-title' }, 'Token'),
        h('p', { class: 'muted' }, 'Its claims; the token itself stays inside the client, in memory.'),
        claims,
        h('h3', {}, 'Usage'),
        usage,
      ),
      speakCard,
      listen.card,
    ),
  )
  if (session.scope !== 'admin') mintButton.disabled = true

  let tokens: TokenSource | undefined
  let player: AudioPlayer | undefined
  let poll: ReturnType<typeof setInterval> | undefined

  const showUsage = async () => {
    if (!client) return
    const info = await client.tokenInfo()
    fill(
      usage,
      h('dt', {}, 'Characters'),
      h(
        'dd',
        { id: 'pg-characters-used' },
        `${count(info.usage.characters)}${characters.value ? ` / ${count(Number(characters.value))}` : ''}`,
      ),
      h('dt', {}, 'Audio heard'),
      h('dd', { id: 'pg-audio-heard' }, duration(info.usage.audio_seconds)),
      h('dt', {}, 'Open streams'),
      h('dd', {}, count(info.usage.open_streams)),
      h('dt', {}, 'Expires'),
      h('dd', {}, `${new Date(info.expires_at * 1000).toISOString().replace('T', ' ').slice(0, 19)} UTC`),
    )
  }

  mintForm.addEventListener('submit', (event) => {
    event.preventDefault()
    void attempt(mintError, async () => {
      tokens?.close()
      client?.close()
      const body = {
        grants: { tts: tts.checked, voices: voicesGrant.checked, stt: stt.checked },
        expires_in: Number(lifetime.value),
        ...(sub.value && { sub: sub.value }),
        limits: {
          ...(characters.value && { characters: Number(characters.value) }),
          ...(concurrent.value && { concurrent_streams: Number(concurrent.value) }),
        },
      }
      // The first token is minted now, so a refused mint shows its error here; later ones (refreshes) the same way.
      let first: string | undefined = (await api<{ token: string }>('POST', '/access-token', body)).token
      const shown = claimsOf(first)
      claims.textContent = JSON.stringify(shown, null, 2)
      tokens = new TokenSource({
        fetchToken: async () => {
          const token = first ?? (await api<{ token: string }>('POST', '/access-token', body)).token
          first = undefined
          const c = claimsOf(token)
          return { token, expires_at: c.exp as number, issued_at: c.iat as number }
        },
      })
      client = new VoxgateClient({ baseUrl: location.origin, tokens })
      speakButton.disabled = !tts.checked
      listen.tokenChanged({ stt: stt.checked })
      fill(voice)
      if (voicesGrant.checked) {
        for await (const v of client.voices.list()) voice.add(new Option(`${v.name} (${v.language})`, v.id))
        voice.disabled = false
      } else voice.add(new Option('No voices grant: the default voice', ''))
      await showUsage()
    })
  })

  speakButton.addEventListener('click', () => {
    if (!client) return
    speakButton.disabled = true
    spoken.textContent = 'Speaking…'
    fill(speakError)
    player ??= new AudioPlayer()
    let samples = 0
    let sampleRate = 24_000
    const frames: Float32Array[] = []
    poll = setInterval(() => void showUsage().catch(() => undefined), 500)
    void (async () => {
      try {
        const stream = client!.speak(
          {
            model_id: 'sonic-3',
            transcript: text.value,
            voice: { id: voice.value || (voice.options[0]?.value ?? '') },
            output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 24_000 },
          },
          { transport: transport.value as Transport },
        )
        for await (const chunk of stream) {
          samples += chunk.samples
          sampleRate = chunk.sampleRate
          frames.push(new Float32Array(chunk.audio.slice().buffer))
          player!.enqueue(chunk)
        }
        spokenAudio = { sampleRate, frames }
        spoken.textContent = `Spoke ${(samples / sampleRate).toFixed(1)} s of audio.`
      } catch (err) {
        spoken.textContent = 'Failed.'
        fill(speakError, errorBox(err))
      } finally {
        clearInterval(poll)
        speakButton.disabled = false
        await showUsage().catch(() => undefined)
      }
    })()
  })

  return () => {
    clearInterval(poll)
    listen.stop()
    player?.stop()
    tokens?.close()
    client?.close()
  }
}
