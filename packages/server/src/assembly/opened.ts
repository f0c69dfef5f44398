/**
 * A group of the server's parts and how to close it at shutdown. Each factory also pushes what it
 * opens onto the start's UndoStack, which closes it if a later step of the start fails.
 */
export interface Opened<T> {
  parts: T
  close(): Promise<void>
}
