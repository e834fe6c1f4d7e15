// The JSON Schema of `tools.yaml` itself (format: docs/manifest.md).
const name = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' } as const;
const fieldName = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } as const;
const scalar = { type: ['string', 'number', 'boolean'] } as const;

export const manifestSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'tools'],
  properties: {
    version: { const: 1 },
    tools: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'title', 'description', 'path', 'privilege'],
        properties: {
          name,
          title: { type: 'string', minLength: 1, maxLength: 60 },
          description: { type: 'string', minLength: 20, maxLength: 400 },
          path: { type: 'string', pattern: '^(/[A-Za-z0-9_.{}-]+)+$' },
          privilege: { type: 'string', minLength: 1, maxLength: 80 },
          open_world: { type: 'boolean' },
          query: { type: 'object', additionalProperties: scalar },
          params: {
            type: 'object',
            propertyNames: { pattern: '^[a-z][a-z0-9_]{0,31}$' },
            additionalProperties: {
              type: 'object',
              additionalProperties: false,
              properties: {
                in: { enum: ['path', 'query', 'filter'] },
                upstream: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
                description: { type: 'string', maxLength: 160 },
                schema: { type: 'object' },
                required: { type: 'boolean' },
                field: fieldName,
                match: { enum: ['equals', 'contains', 'substring', 'min', 'max', 'differs'] },
                value: scalar,
              },
            },
          },
          output: {
            type: 'object',
            additionalProperties: false,
            required: ['shape'],
            properties: {
              shape: { enum: ['list', 'record', 'value'] },
              rows: { type: 'object', additionalProperties: { type: 'array', items: scalar, minItems: 1 } },
              extras: {
                type: 'object',
                additionalProperties: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['where', 'pluck'],
                  properties: {
                    where: { type: 'object', additionalProperties: { type: 'array', items: scalar } },
                    pluck: fieldName,
                  },
                },
              },
              types: {
                type: 'object',
                propertyNames: fieldName,
                additionalProperties: { enum: ['bool', 'int', 'number', 'tags', 'list', 'bytes', 'rate', 'percent', 'pct', 'duration', 'epoch', 'text'] },
              },
              derive: {
                type: 'object',
                additionalProperties: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['percent'],
                  properties: { percent: { type: 'array', items: fieldName, minItems: 2, maxItems: 2 } },
                },
              },
              key: fieldName,
              order: { type: 'array', items: fieldName, minItems: 1, uniqueItems: true },
              hidden: { type: 'array', items: fieldName, minItems: 1, uniqueItems: true },
              keep_if: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['where', 'fields'],
                  properties: {
                    where: { type: 'object', minProperties: 1, additionalProperties: { type: 'array', items: scalar, minItems: 1 } },
                    fields: { type: 'array', items: fieldName, minItems: 1, uniqueItems: true },
                  },
                },
              },
              sort: { type: 'array', items: fieldName, minItems: 1, uniqueItems: true },
              fields: { type: 'array', items: fieldName, minItems: 1, uniqueItems: true },
              pluck: fieldName,
              omit: { type: 'array', items: fieldName, minItems: 1, uniqueItems: true },
              rename: { type: 'object', propertyNames: fieldName, additionalProperties: fieldName },
              redact_by: { type: 'object', propertyNames: fieldName, additionalProperties: { type: 'array', items: fieldName, minItems: 1 } },
              rows_with: { type: 'array', items: fieldName, minItems: 1, uniqueItems: true },
              unwrap: fieldName,
              body_error: fieldName,
              page: { type: 'integer', minimum: 1, maximum: 500 },
              budget: { type: 'integer', minimum: 1024, maximum: 1_000_000 },
              errors: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['match', 'message'],
                  properties: {
                    status: { type: 'integer', minimum: 200, maximum: 599 },
                    match: { type: 'string', minLength: 1 },
                    message: { type: 'string', minLength: 1, maxLength: 300 },
                    result: { type: 'object' },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;
