import type { VoxgateError } from '@voxgate/protocol'
import { errorBody } from '../gateway/errors.ts'

/** OpenAI's error body, which its SDKs read into `APIError` (`code`, `type`, `param`). */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string }
}

/** OpenAI's paths: only these answer in OpenAI's error shape; every other route keeps Cartesia's. */
export function isOpenAiPath(url: string): boolean {
  return url === '/v1' || url.startsWith('/v1/') || url.startsWith('/v1?')
}

/** The same failure in OpenAI's shape: voxgate's `error_code` is the `code`, the status picks the `type`. */
export function openAiErrorBody(err: VoxgateError, requestId: string): OpenAiErrorBody {
  const body = errorBody(err, requestId)
  const type = err.status >= 500 ? 'server_error' : 'invalid_request_error'
  return { error: { message: body.message, type, param: null, code: body.error_code } }
}
