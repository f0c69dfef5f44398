import { api, type ApiError } from '../api.ts'
import { fill, h } from '../dom.ts'

/**
 * Sign-in: a one-time link's code arrives in the fragment (never sent to a server, never in a
 * Referer) and is used at once; otherwise an `admin` or `read` API key typed into the form.
 */
export function showLogin(main: HTMLElement): void {
  document.title = 'Sign in · voxgate console'
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' })
  const code = new URLSearchParams(location.hash.slice(1)).get('code')
  // The code leaves the address bar (and history) before anything else happens.
  if (location.hash) history.replaceState(null, '', location.pathname)
  const input = h('input', {
    id: 'key',
    name: 'key',
    type: 'password',
    autocomplete: 'off',
    required: true,
    spellcheck: 'false',
    'aria-describedby': 'login-error',
  })
  const submit = h('button', { type: 'submit' }, 'Sign in')
  const form = h(
    'form',
    { class: 'card login' },
    h('label', { for: 'key' }, 'API key (admin or read scope)'),
    input,
    submit,
  )
  const signIn = async (body: { code: string } | { key: string }) => {
    submit.disabled = true
    fill(error)
    try {
      await api('POST', '/console/api/login', body)
      location.assign('/console/')
    } catch (err) {
      const e = err as ApiError
      fill(error, h('code', {}, e.code), ` ${e.message}`)
      submit.disabled = false
    }
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const key = input.value
    input.value = ''
    void signIn({ key })
  })
  fill(
    main,
    h(
      'section',
      { 'aria-labelledby': 'page-title', class: 'narrow' },
      h('h1', { id: 'page-title' }, 'Sign in'),
      h('p', {}, 'Open the link printed by ', h('code', {}, 'voxgate console-link'), ', or sign in with an API key.'),
      form,
      error,
    ),
  )
  if (code) void signIn({ code })
  else input.focus()
}
