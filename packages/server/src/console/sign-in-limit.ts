/**
 * Console sign-in attempts (a link's code or a key typed in) one client address may make per minute,
 * as any sign-in form is throttled; counted where the other rate limits are (Redis, else the store).
 */
export const CONSOLE_SIGN_IN_PER_MINUTE = 10
