import { VoxgateError } from '@voxgate/protocol'
import { MAX_FIELD_BYTES, MAX_FIELDS } from '../stt/multipart.ts'

/**
 * A multipart upload, read whole and parsed: the fields and the one audio file voxgate checked and
 * measured. It is what the relay forwards, serialized anew (`toBody`), never the client's bytes: a
 * second file, a repeated field or a malformed part cannot show the upstream audio voxgate did not see.
 */
export class UploadForm {
  private constructor(
    readonly form: FormData,
    /** The audio file's bytes. */
    readonly file: Uint8Array,
  ) {}

  /**
   * Parses `body`: one file, under `fileField`, not empty; at most MAX_FIELDS text fields of at most
   * MAX_FIELD_BYTES each (the limits of local uploads, 413 past them).
   */
  static async parse(body: Buffer, contentType: string | undefined, fileField: string): Promise<UploadForm> {
    const form = await parseMultipart(body, contentType)
    let fields = 0
    let file: File | undefined
    for (const [name, value] of form) {
      if (typeof value !== 'string') {
        if (name !== fileField || file) throw new VoxgateError('invalid_request', `Send one file, as "${fileField}".`)
        file = value
      } else if (++fields > MAX_FIELDS)
        throw new VoxgateError('payload_too_large', `Send at most ${MAX_FIELDS} fields.`)
      else if (Buffer.byteLength(value) > MAX_FIELD_BYTES)
        throw new VoxgateError('payload_too_large', `The field ${name} is longer than ${MAX_FIELD_BYTES} bytes.`)
    }
    if (!file || file.size === 0)
      throw new VoxgateError('invalid_request', `Invalid request: ${fileField} is required.`)
    return new UploadForm(form, new Uint8Array(await file.arrayBuffer()))
  }

  /** A text field sent at most once (400 naming it when repeated or sent as a file). */
  single(name: string): string | undefined {
    const values = this.form.getAll(name)
    if (values.length > 1 || values.some((v) => typeof v !== 'string'))
      throw new VoxgateError('invalid_request', `Invalid request: ${name} must be sent once, as text.`)
    return values[0] as string | undefined
  }

  /** The form as the upstream gets it: its own multipart body and Content-Type (a fresh boundary). */
  async toBody(): Promise<{ bytes: Buffer; contentType: string }> {
    const res = new Response(this.form)
    return { bytes: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type')! }
  }
}

/** Refuses (415) a body that is not multipart, before it is read: it is Fastify's then, parsed or refused already. */
export function assertMultipart(contentType: string | undefined): asserts contentType is string {
  if (!contentType?.toLowerCase().startsWith('multipart/form-data'))
    throw new VoxgateError('unsupported_media_type', 'Send the audio as multipart/form-data.')
}

async function parseMultipart(body: Buffer, contentType: string | undefined): Promise<FormData> {
  assertMultipart(contentType)
  try {
    return await new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-type': contentType } }).formData()
  } catch {
    throw new VoxgateError('invalid_request', 'The multipart body could not be read.')
  }
}
