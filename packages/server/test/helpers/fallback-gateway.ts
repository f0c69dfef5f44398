import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startTestServer, type TestServer, type TestServerOptions } from './server.ts'

export interface FallbackGatewayOptions extends TestServerOptions {
  upstreamUrl: string
  upstreamApiKey: string
  /** Writes a `--fallback-voice-map` that sends the upstream's `upstream-voice` to this local voice. */
  mappedVoice?: string
}

/**
 * A gateway with `--fallback local` in front of a fake upstream, where every failure is a trigger of
 * its own: the breaker's threshold is one no test reaches (a test of the open circuit starts its own
 * gateway), and the upstream gets 1 s to answer. `options` may add to or override any of it.
 */
export async function startFallbackGateway(options: FallbackGatewayOptions): Promise<TestServer> {
  const { mappedVoice, ...server } = options
  let fallbackVoiceMapFile: string | undefined
  if (mappedVoice !== undefined) {
    fallbackVoiceMapFile = path.join(mkdtempSync(path.join(tmpdir(), 'voxgate-fallback-')), 'voices.json')
    writeFileSync(fallbackVoiceMapFile, JSON.stringify({ 'upstream-voice': mappedVoice }))
  }
  return startTestServer({
    upstreamTimeoutMs: 1000,
    upstreamFailureThreshold: 1000,
    fallback: 'local',
    ...(fallbackVoiceMapFile && { fallbackVoiceMapFile }),
    ...server,
  })
}
