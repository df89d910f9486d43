/** One entry of a 422's detail list (FastAPI/pydantic shape). */
export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input?: unknown;
}

/** Any non-2xx answer. `detail` is the server's `detail` field as sent. */
export class FluxtuneApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}: ${typeof detail === 'string' ? detail : JSON.stringify(detail ?? body)}`);
    this.name = 'FluxtuneApiError';
  }
}

/** 422: `issues` says which field and why (for a rejected ZIP: the file inside it and the reason). */
export class FluxtuneValidationError extends FluxtuneApiError {
  readonly issues: ValidationIssue[];
  constructor(status: number, detail: unknown, body: unknown) {
    super(status, detail, body);
    this.name = 'FluxtuneValidationError';
    this.issues = Array.isArray(detail) ? (detail as ValidationIssue[]) : [];
    this.message = `Invalid request: ${this.issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; ')}`;
  }
}

export class FluxtuneAuthError extends FluxtuneApiError {
  override name = 'FluxtuneAuthError';
}
export class FluxtuneNotFoundError extends FluxtuneApiError {
  override name = 'FluxtuneNotFoundError';
}
export class FluxtuneNotReadyError extends FluxtuneApiError {
  override name = 'FluxtuneNotReadyError';
}
export class FluxtuneRateLimitError extends FluxtuneApiError {
  override name = 'FluxtuneRateLimitError';
}

export function errorFor(status: number, body: unknown): FluxtuneApiError {
  const detail = body && typeof body === 'object' && 'detail' in body ? (body as { detail: unknown }).detail : body;
  switch (status) {
    case 422:
      return new FluxtuneValidationError(status, detail, body);
    case 401:
    case 403:
      return new FluxtuneAuthError(status, detail, body);
    case 404:
      return new FluxtuneNotFoundError(status, detail, body);
    case 400:
      return new FluxtuneNotReadyError(status, detail, body);
    case 429:
      return new FluxtuneRateLimitError(status, detail, body);
    default:
      return new FluxtuneApiError(status, detail, body);
  }
}

/** A task finished with Error (or moderation) while waitFor was waiting. */
export class FluxtuneTaskFailedError extends Error {
  constructor(readonly result: { id: string; status: string; details?: unknown }) {
    super(`Task ${result.id} ended with status ${result.status}: ${JSON.stringify(result.details ?? null)}`);
    this.name = 'FluxtuneTaskFailedError';
  }
}

/** The server could not be reached at all: says where it looked and how to start one. */
export class FluxtuneConnectionError extends Error {
  constructor(
    readonly baseUrl: string,
    cause: unknown,
  ) {
    const inner = (cause as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } })?.cause;
    const code = inner?.code ?? inner?.errors?.[0]?.code ?? inner?.message ?? (cause as Error)?.message;
    super(
      `cannot reach a fluxtune server at ${baseUrl} (${code}). Start one with \`npx fluxtune serve\` (or \`npm start\`), or point FLUXTUNE_URL / --url at yours.`,
    );
    this.name = 'FluxtuneConnectionError';
  }
}
