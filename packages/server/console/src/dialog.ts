import { h } from './dom.ts'

/** A modal `<dialog>` (focus kept inside, Escape closes), removed from the page once closed. */
export function modal(title: string, ...content: Node[]): HTMLDialogElement {
  const id = `dialog-${Math.random().toString(36).slice(2)}`
  const dialog = h('dialog', { 'aria-labelledby': id }, h('h2', { id }, title), ...content)
  dialog.addEventListener('close', () => dialog.remove())
  document.body.append(dialog)
  dialog.showModal()
  return dialog
}

/** Asks before a change that cannot be undone; resolves true when confirmed. */
export function confirmDialog(title: string, text: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    let confirmed = false
    const yes = h('button', { type: 'button', class: 'danger' }, action)
    const no = h('button', { type: 'button' }, 'Cancel')
    const dialog = modal(title, h('p', {}, text), h('div', { class: 'actions' }, no, yes))
    yes.addEventListener('click', () => {
      confirmed = true
      dialog.close()
    })
    no.addEventListener('click', () => dialog.close())
    dialog.addEventListener('close', () => resolve(confirmed))
    no.focus()
  })
}
