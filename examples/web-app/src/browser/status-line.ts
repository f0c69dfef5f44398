/** Sets the status line, while its activity is the newest one; afterwards it does nothing. */
export type ShowStatus = (text: string) => void

/**
 * The page's one status line, shared by Speak and Listen. Each activity takes a turn when it starts and
 * writes through it; only the newest turn writes, so "Listening…" replaces "Done" and a speech ending
 * under it cannot bring its own "Done" back.
 */
export function statusLine(element: HTMLElement): () => ShowStatus {
  let newest = 0
  return () => {
    const turn = ++newest
    return (text) => {
      if (turn === newest) element.textContent = text
    }
  }
}
