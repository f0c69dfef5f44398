import { configurationPage } from './configuration-page.ts'
import { errorsPage } from './errors-page.ts'
import { formatted } from './markdown.ts'

const PAGES: Readonly<Record<string, () => string>> = {
  'docs/configuration.md': configurationPage,
  'docs/errors.md': errorsPage,
}

/** Each generated page, by its path from the repository root, as `npm run docs` writes it (formatted). */
export const GENERATED_PAGES: Readonly<Record<string, () => string>> = Object.fromEntries(
  Object.entries(PAGES).map(([file, render]) => [file, () => formatted(file, render())]),
)
