import { echoInput, type Location, singleError } from './pydantic-errors.ts';

/** An answer other than 200, thrown by a guard or handler and sent by the server's one error handler. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'object' && body && 'detail' in body && typeof body.detail === 'string' ? body.detail : `HTTP ${statusCode}`);
  }
}

/** FastAPI's HTTPException: {"detail": "<message>"}. */
export const detailError = (statusCode: number, detail: string) => new HttpError(statusCode, { detail });

/** A 422 for one field that passed the schema but not a later check (a ZIP, an image, a webhook address). */
export const fieldError = (where: Location, field: string, msg: string, input: unknown) =>
  new HttpError(422, singleError(where, field, 'value_error', `Value error, ${msg}`, echoInput(input)));

export const NOT_AUTHENTICATED = 'Not authenticated - Invalid Authentication';
export const FINETUNE_NOT_FOUND = 'Finetune not found or access denied';
