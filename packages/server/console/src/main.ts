import './style.css'
import { api, ApiError, routeExists } from './api.ts'
import { fill, h } from './dom.ts'
import { showLogin } from './pages/login.ts'
import { PAGES, type Page, type Session } from './pages/index.ts'

const main = document.querySelector<HTMLElement>('#main')!
const nav = document.querySelector<HTMLElement>('#nav')!
const who = document.querySelector<HTMLElement>('#who')!
let session: Session | undefined
/** The page shown now: told to stop (timers, live feeds) when another is shown. */
let leave: (() => void) | undefined

const pathOf = (page: Page) => `/console/${page.slug}`

function pageFor(path: string): Page | undefined {
  const slug = path.replace(/^\/console\/?/, '').replace(/\/$/, '')
  return PAGES.find((p) => p.slug === slug) ?? (slug === '' ? PAGES[0] : undefined)
}

async function show(path: string, focus: boolean): Promise<void> {
  leave?.()
  leave = undefined
  const page = pageFor(path)
  for (const a of nav.querySelectorAll('a'))
    if (a.getAttribute('href') === (page && pathOf(page))) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  if (!page || !session) {
    fill(main, h('h1', {}, 'Not found'), h('p', {}, 'No console page here.'))
    return
  }
  document.title = `${page.name} · voxgate console`
  const section = h('section', { 'aria-labelledby': 'page-title' }, h('h1', { id: 'page-title' }, page.name))
  fill(main, section)
  if (focus) main.focus()
  leave = page.render(section, session)
}

function buildNav(available: Set<string>): void {
  fill(
    nav,
    h(
      'ul',
      {},
      PAGES.filter((p) => !p.probe || available.has(p.slug)).map((p) =>
        h('li', {}, h('a', { href: pathOf(p) }, p.name)),
      ),
    ),
  )
  nav.hidden = false
}

nav.addEventListener('click', (event) => {
  const a = (event.target as Element).closest('a')
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey) return
  event.preventDefault()
  history.pushState(null, '', a.getAttribute('href'))
  void show(location.pathname, true)
})
window.addEventListener('popstate', () => void show(location.pathname, true))
window.addEventListener('signed-out', () => {
  if (session) location.assign('/console/login')
})

document.querySelector('#sign-out')!.addEventListener('click', async () => {
  await api('POST', '/console/api/logout').catch(() => undefined)
  session = undefined
  location.assign('/console/login')
})

async function start(): Promise<void> {
  if (location.pathname === '/console/login') {
    showLogin(main)
    return
  }
  try {
    session = await api<Session>('GET', '/console/api/session')
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      location.replace('/console/login')
      return
    }
    fill(main, h('p', { role: 'alert' }, `Could not reach the server: ${(err as Error).message}`))
    return
  }
  // Pages of routes a later voxgate adds (audit log, webhooks) are linked only where the route answers.
  const probed = await Promise.all(
    PAGES.filter((p) => p.probe).map(async (p) => [p.slug, await routeExists(p.probe!)] as const),
  )
  buildNav(new Set(probed.filter(([, ok]) => ok).map(([slug]) => slug)))
  fill(
    document.querySelector('#who-scope')!,
    session.scope === 'admin' ? 'Admin' : 'Read only',
    session.key_id ? ` · ${session.key_id}` : ' · signed in by link',
  )
  who.hidden = false
  await show(location.pathname, false)
}

void start()
