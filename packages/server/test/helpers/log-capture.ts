import { Writable } from 'node:stream'

/** A pino destination that keeps every line, so tests can prove secrets never reach the logs. */
export class LogCapture extends Writable {
  readonly lines: string[] = []
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean))
    done()
  }
  text(): string {
    return this.lines.join('\n')
  }
}
