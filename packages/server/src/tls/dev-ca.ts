import { webcrypto } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createSecureContext } from 'node:tls'
import { assertPrivateFile, assertPrivateFolder, writePrivateFile } from '../fs-safety.ts'
import { StartError } from '../start-errors.ts'

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const DAY_MS = 86_400_000

export interface DevTls {
  /** PEM of the development CA: what a browser or `NODE_EXTRA_CA_CERTS` must trust. */
  caFile: string
  certFile: string
  keyFile: string
  /** True when this call created the files (first run). */
  created: boolean
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey))
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END PRIVATE KEY-----\n`
}

/**
 * A local certificate authority and a server certificate for localhost, 127.0.0.1 and ::1 (plus
 * any extra host names), kept in `dir`. Browsers refuse a self-signed leaf for WebSockets without a
 * prompt, so a CA you can trust once is friendlier than a bare self-signed certificate.
 */
export async function ensureDevTls(dir: string, extraHosts: readonly string[] = []): Promise<DevTls> {
  const files = {
    caFile: path.join(dir, 'dev-ca.pem'),
    certFile: path.join(dir, 'dev-cert.pem'),
    keyFile: path.join(dir, 'dev-key.pem'),
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  assertPrivateFolder(dir)
  assertPrivateFile(files.keyFile)
  if (existsSync(files.caFile) && existsSync(files.certFile) && existsSync(files.keyFile))
    return { ...files, created: false }
  // Loaded only to make the files (first run): @peculiar/x509 and its ASN.1 stack are some 200 modules.
  const x509 = await import('@peculiar/x509')
  x509.cryptoProvider.set(webcrypto as unknown as Crypto)
  const now = Date.now()
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=voxgate development CA',
    keys: caKeys,
    signingAlgorithm: ALG,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  })
  const leafKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
  const hosts = ['localhost', ...extraHosts]
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=localhost',
    issuer: ca.subject,
    signingKey: caKeys.privateKey,
    publicKey: leafKeys.publicKey,
    signingAlgorithm: ALG,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 397 * DAY_MS),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...hosts.map((value) => ({ type: 'dns' as const, value })),
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  })
  writeFileSync(files.caFile, `${ca.toString('pem')}\n`)
  writeFileSync(files.certFile, `${leaf.toString('pem')}\n${ca.toString('pem')}\n`)
  writePrivateFile(files.keyFile, await pkcs8Pem(leafKeys.privateKey))
  return { ...files, created: true }
}

const serial = (): string =>
  Buffer.from(webcrypto.getRandomValues(new Uint8Array(12)))
    .toString('hex')
    .replace(/^[89a-f]/, '1')

/**
 * Reads a certificate chain and its key; a key file other users can read is refused, as ssh does.
 * The pair is checked here (parsed, and the key matching the certificate), so a bad one stops the
 * start at once with one line instead of failing the first handshake.
 */
export function readTls(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  assertPrivateFile(keyFile)
  const bad = (reason: string) =>
    new StartError('bad_tls', `cannot use TLS certificate ${certFile} with key ${keyFile}: ${reason}`)
  let pair: { cert: Buffer; key: Buffer }
  try {
    pair = { cert: readFileSync(certFile), key: readFileSync(keyFile) }
  } catch (err) {
    throw bad((err as Error).message)
  }
  try {
    createSecureContext(pair)
  } catch (err) {
    throw bad(`${(err as Error).message} (expected a PEM certificate chain and its PEM private key)`)
  }
  return pair
}
