import { z } from 'zod';

// pydantic accepts an explicit null for most optional fields of BFL's models; we treat null as "use the default".

export function withDefault<S extends z.ZodType>(schema: S, fallback: z.output<S>) {
  return schema.nullish().transform((v) => (v ?? fallback) as z.output<S>);
}

export function optionalNullable<S extends z.ZodType>(schema: S) {
  return schema.nullish().transform((v) => (v ?? undefined) as z.output<S> | undefined);
}

export const intBetween = (min: number, max: number) => z.number().int().gte(min).lte(max);
export const numberBetween = (min: number, max: number) => z.number().gte(min).lte(max);

/** BFL: webhook_url is a URI of 1–2083 characters. Only http(s) makes sense for a webhook. */
export const webhookUrl = z
  .string()
  .min(1)
  .max(2083)
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, { message: 'Input should be a valid URL, relative URL without a base', params: { pydanticType: 'url_parsing' } });

export const webhookFields = {
  webhook_url: optionalNullable(webhookUrl),
  webhook_secret: optionalNullable(z.string()),
};

export const outputFormat = withDefault(z.enum(['jpeg', 'png']), 'jpeg');
