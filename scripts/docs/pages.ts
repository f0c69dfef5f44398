import { configurationPage } from './configuration-page.ts'
import { errorsPage } from './errors-page.ts'

/** Each generated page, by its path from the repository root. */
export const GENERATED_PAGES: Readonly<Record<string, () => string>> = {
  'docs/configuration.md': configurationPage,
  'docs/errors.md': errorsPage,
}
