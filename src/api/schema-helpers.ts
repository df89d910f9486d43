import { z } from 'zod';

// pydantic accepts an explicit null for most optional fields of BFL's models; we treat null as "use the default".

/** What the OpenAPI generator needs to know about a field that zod's JSON Schema cannot say (a transform hides it). */
export interface FieldDoc {
  /** The value an absent (or null) field takes. */
  default?: unknown;
  description?: string;
}

export const fieldDocs = z.registry<FieldDoc>();

export function withDefault<S extends z.ZodType>(schema: S, fallback: z.output<S>, description?: string) {
  const field = schema.nullish().transform((v) => (v ?? fallback) as z.output<S>);
  fieldDocs.add(field as z.ZodType, { default: fallback, ...(description ? { description } : {}) });
  return field;
}

export function optionalNullable<S extends z.ZodType>(schema: S, description?: string) {
  const field = schema.nullish().transform((v) => (v ?? undefined) as z.output<S> | undefined);
  if (description) fieldDocs.add(field as z.ZodType, { description });
  return field;
}

/**
 * Text that is stored: a NUL or an unpaired surrogate would be refused by Postgres later (a 500), so it
 * is a 422 naming the field now. pydantic calls undecodable text `string_unicode`.
 */
const NOT_STORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const text = () =>
  z.string().refine((v) => !NOT_STORABLE.test(v), {
    message: 'Input should be a valid string, without NUL characters or unpaired surrogates',
    params: { pydanticType: 'string_unicode' },
  });

export const intBetween = (min: number, max: number) => z.number().int().gte(min).lte(max);
export const numberBetween = (min: number, max: number) => z.number().gte(min).lte(max);

/** BFL: webhook_url is a URI of 1–2083 characters. Only http(s) makes sense for a webhook. */
export const webhookUrl = text()
  .min(1)
  .max(2083)
  .refine(
    (v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { message: 'Input should be a valid URL, relative URL without a base', params: { pydanticType: 'url_parsing' } },
  )
  .meta({ format: 'uri' });

export const webhookFields = {
  webhook_url: optionalNullable(webhookUrl, 'URL to receive webhook notifications'),
  webhook_secret: optionalNullable(text(), 'Optional secret for webhook signature verification'),
};

export const outputFormat = withDefault(z.enum(['jpeg', 'png']), 'jpeg', "Output format for the generated image. Can be 'jpeg' or 'png'.");
