/** The sign-in page: one form, two buttons, JSON to the app's own backend. */
const form = document.querySelector<HTMLFormElement>('#auth')!
const email = document.querySelector<HTMLInputElement>('#email')!
const password = document.querySelector<HTMLInputElement>('#password')!
const error = document.querySelector<HTMLElement>('#error')!
const buttons = [...document.querySelectorAll<HTMLButtonElement>('button')]

async function submit(path: '/api/sign-in' | '/api/sign-up'): Promise<void> {
  error.textContent = ''
  buttons.forEach((b) => (b.disabled = true))
  try {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: email.value, password: password.value }),
    })
    if (res.ok) {
      location.assign('/speak')
      return
    }
    const body = (await res.json().catch(() => ({}))) as { message?: string }
    error.textContent = body.message ?? `Something went wrong (${res.status}).`
  } catch {
    error.textContent = 'The app could not be reached.'
  } finally {
    buttons.forEach((b) => (b.disabled = false))
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault()
  void submit('/api/sign-in')
})
document.querySelector('#sign-up')!.addEventListener('click', () => void submit('/api/sign-up'))
