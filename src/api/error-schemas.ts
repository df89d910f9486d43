import { z } from 'zod';

/** 403/404/400/429 bodies: FastAPI's HTTPException shape. */
export const detailResponse = z.object({ detail: z.string() });

/** One entry of a 422: pydantic v2's error, as FastAPI serialises it. */
export const validationError = z.object({
  loc: z.array(z.union([z.string(), z.number().int()])),
  msg: z.string(),
  type: z.string(),
  input: z.unknown().optional(),
  ctx: z.record(z.string(), z.unknown()).optional(),
});

export const httpValidationError = z.object({ detail: z.array(validationError) });
