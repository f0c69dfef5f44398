import type {} from '@fastify/multipart'
import type { FastifyRequest } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'

/** Text fields one upload may carry (model, language, timestamp_granularities[], OpenAI's extras). */
export const MAX_FIELDS = 16
export const MAX_FIELD_BYTES = 1024

export interface Upload {
  file: Buffer | undefined
  /** Text fields; `name[]` arrays gathered under `name`. */
  fields: Record<string, string | string[]>
}

/** @fastify/multipart's failures, in our catalogue. */
const MULTIPART_CODES: Record<string, () => VoxgateError> = {
  FST_REQ_FILE_TOO_LARGE: () =>
    new VoxgateError('payload_too_large', 'The audio file is larger than the server accepts.'),
  FST_FILES_LIMIT: () => new VoxgateError('payload_too_large', 'Send one file.'),
  FST_FIELDS_LIMIT: () => new VoxgateError('payload_too_large', `Send at most ${MAX_FIELDS} fields.`),
  FST_PARTS_LIMIT: () => new VoxgateError('payload_too_large', 'Too many parts.'),
  FST_INVALID_MULTIPART_CONTENT_TYPE: () =>
    new VoxgateError('unsupported_media_type', 'Send the audio as multipart/form-data with a "file" field.'),
  FST_PROTO_VIOLATION: () => new VoxgateError('invalid_request', 'Invalid field name.'),
  FST_MP_PREMATURE_CLOSE: () => new VoxgateError('invalid_request', 'The request ended before the multipart body did.'),
}

/** Reads the one `file` part and the text fields. */
export async function readUpload(request: FastifyRequest): Promise<Upload> {
  const out: Upload = { file: undefined, fields: {} }
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer()
        if (part.fieldname === 'file') out.file = bytes
        continue
      }
      if (typeof part.value !== 'string') continue
      const name = part.fieldname.endsWith('[]') ? part.fieldname.slice(0, -2) : part.fieldname
      const prev = out.fields[name]
      out.fields[name] =
        part.fieldname.endsWith('[]') || prev !== undefined ? [...[prev ?? []].flat(), part.value] : part.value
    }
  } catch (err) {
    const code = (err as { code?: string }).code
    const mapped = code ? MULTIPART_CODES[code] : undefined
    throw mapped ? mapped() : err
  }
  return out
}
