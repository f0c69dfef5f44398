/**
 * The Cartesia API version voxgate speaks and every voxgate client sends by default (SDK 4.2's).
 * Servers accept any `YYYY-MM-DD`; this is the one voxgate reports and assumes when none is sent.
 */
export const API_VERSION = '2026-08-14'

/** The syntax of an API version: a date. */
export const API_VERSION_PATTERN = /^\d{4}-\d{2}-\d{2}$/
