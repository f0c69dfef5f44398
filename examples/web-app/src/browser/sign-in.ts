/**
 * The sign-in page: one form, two buttons, JSON to the app's own backend. Sign-up never signs in (its
 * answer is the same whether or not the email already had an account), so the page then asks for a sign-in.
 */
const form = document.querySelector<HTMLFormElement>('#auth')!
const email = document.querySelector<HTMLInputElement>('#email')!
const password = document.querySelector<HTMLInputElement>('#password')!
const signInButton = document.querySelector<HTMLButtonElement>('#sign-in')!
const notice = document.querySelector<HTMLElement>('#notice')!
const error = document.querySelector<HTMLElement>('#error')!
const buttons = [...document.querySelectorAll<HTMLButtonElement>('button')]

type Outcome = 'signed-in' | 'sign-in-next' | 'refused'

async function send(path: '/api/sign-in' | '/api/sign-up'): Promise<Outcome> {
  try {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: email.value, password: password.value }),
    })
    const body = (await res.json().catch(() => ({}))) as { message?: string }
    if (res.ok && path === '/api/sign-in') return 'signed-in'
    if (res.status === 202) {
      notice.textContent = body.message ?? 'Now sign in with this email and password.'
      return 'sign-in-next'
    }
    error.textContent = body.message ?? `Something went wrong (${res.status}).`
  } catch {
    error.textContent = 'The app could not be reached.'
  }
  return 'refused'
}

async function submit(path: '/api/sign-in' | '/api/sign-up'): Promise<void> {
  error.textContent = ''
  notice.textContent = ''
  buttons.forEach((b) => (b.disabled = true))
  const outcome = await send(path)
  if (outcome === 'signed-in') return location.assign('/speak')
  buttons.forEach((b) => (b.disabled = false))
  if (outcome === 'sign-in-next') signInButton.focus()
}

form.addEventListener('submit', (e) => {
  e.preventDefault()
  void submit('/api/sign-in')
})
document.querySelector('#sign-up')!.addEventListener('click', () => void submit('/api/sign-up'))
