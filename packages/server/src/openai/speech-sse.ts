/** One OpenAI SSE event: a `data:` line only (OpenAI names the event in its JSON `type`, not an `event:` line). */
const frame = (event: object) => Buffer.from(`data: ${JSON.stringify(event)}\n\n`)

/**
 * `stream_format: "sse"`: each piece of audio as a `speech.audio.delta` event (base64), then one
 * `speech.audio.done` whose usage counts the input in voxgate's characters (no output tokens).
 */
export async function* speechSse(audio: AsyncIterable<Buffer>, characters: number): AsyncGenerator<Buffer> {
  for await (const chunk of audio) yield frame({ type: 'speech.audio.delta', audio: chunk.toString('base64') })
  yield frame({
    type: 'speech.audio.done',
    usage: { input_tokens: characters, output_tokens: 0, total_tokens: characters },
  })
}
