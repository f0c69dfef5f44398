import { z } from 'zod'

export type JsonSchema = Record<string, unknown>

/**
 * A request schema as OpenAPI 3.1 (JSON Schema 2020-12) from the zod schema the server validates
 * with: the input side (what a client sends, before coercions and defaults apply).
 */
export function requestSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema
  return json
}

export interface QueryParameter {
  name: string
  in: 'query'
  required: boolean
  schema: JsonSchema
  description?: string
}

/** A query object's schema as one OpenAPI parameter per property. */
export function queryParameters(schema: z.ZodObject): QueryParameter[] {
  const json = requestSchema(schema)
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>
  const required = new Set((json.required ?? []) as string[])
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema: property,
    ...(typeof property.description === 'string' && { description: property.description }),
  }))
}
