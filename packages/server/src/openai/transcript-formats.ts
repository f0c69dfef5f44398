import type { SttWord } from '@voxgate/protocol'

/** One utterance as OpenAI's `verbose_json` segment; what PocketSphinx does not measure has a fixed value. */
export interface Segment {
  id: number
  seek: number
  start: number
  end: number
  text: string
  tokens: number[]
  temperature: number
  avg_logprob: number
  compression_ratio: number
  no_speech_prob: number
}

const textOf = (words: readonly SttWord[]) => words.map((w) => w.word).join(' ')

/** Each recogniser utterance is a segment, from its first word's start to its last word's end. */
export function segmentsOf(utterances: readonly SttWord[][]): Segment[] {
  return utterances.map((words, id) => ({
    id,
    seek: 0,
    start: words[0]?.start ?? 0,
    end: words[words.length - 1]?.end ?? 0,
    text: textOf(words),
    tokens: [],
    temperature: 0,
    avg_logprob: 0,
    compression_ratio: 1,
    no_speech_prob: 0,
  }))
}

/** `hh:mm:ss` then the milliseconds after `separator` (`,` for SRT, `.` for WebVTT). */
function timestamp(seconds: number, separator: ',' | '.'): string {
  const ms = Math.round(seconds * 1000)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  const h = Math.floor(ms / 3_600_000)
  const m = Math.floor(ms / 60_000) % 60
  const s = Math.floor(ms / 1000) % 60
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`
}

/** SubRip: numbered cues, one per segment. */
export function srt(segments: readonly Segment[]): string {
  return segments
    .map((s, i) => `${i + 1}\n${timestamp(s.start, ',')} --> ${timestamp(s.end, ',')}\n${s.text}\n\n`)
    .join('')
}

/** WebVTT: the header, then one cue per segment. */
export function vtt(segments: readonly Segment[]): string {
  return `WEBVTT\n\n${segments.map((s) => `${timestamp(s.start, '.')} --> ${timestamp(s.end, '.')}\n${s.text}\n\n`).join('')}`
}
