import type { SecureContextOptions, TlsOptions } from 'node:tls'

/**
 * TLS 1.3, and on TLS 1.2 only forward-secret ECDHE with an AEAD cipher (Mozilla's "intermediate"
 * profile). Node's default list also offers CBC suites with SHA-1 MACs on 1.2 (`ECDHE-…-AES128-SHA`),
 * open to padding-oracle and Lucky13-style attacks; a client that has nothing better is refused.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':')

/** What every voxgate HTTPS listener uses besides its certificate and key. */
export const TLS_POLICY = { minVersion: 'TLSv1.2', ciphers: TLS_CIPHERS } as const satisfies TlsOptions &
  SecureContextOptions
