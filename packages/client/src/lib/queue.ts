/**
 * A one-consumer async queue: producers `push`, then `end` or `fail`; the consumer iterates.
 * `onReturn` runs when the consumer stops early (break / return), so the producer can cancel.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  #items: T[] = []
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined
  #ended = false
  #error: unknown
  #failed = false

  constructor(private readonly onReturn: () => void = () => undefined) {}

  get closed(): boolean {
    return this.#ended || this.#failed
  }

  push(item: T): void {
    if (this.closed) return
    const w = this.#waiter
    if (w) {
      this.#waiter = undefined
      w.resolve({ value: item, done: false })
    } else this.#items.push(item)
  }

  end(): void {
    if (this.closed) return
    this.#ended = true
    this.#waiter?.resolve({ value: undefined, done: true })
    this.#waiter = undefined
  }

  fail(err: unknown): void {
    if (this.closed) return
    this.#failed = true
    this.#error = err
    this.#waiter?.reject(err)
    this.#waiter = undefined
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.#items.shift()
    if (item !== undefined) return Promise.resolve({ value: item, done: false })
    if (this.#failed) return Promise.reject(this.#error)
    if (this.#ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.end()
      this.onReturn()
    }
    this.#items = []
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}
