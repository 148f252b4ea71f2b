/**
 * An HTTP failure with its status, headers and JSON body. Everything a handler throws is turned
 * into a response in one place (src/http/respond.ts `sendError`); OAuth errors extend this.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
    /** For a refused body: the answer is ended (and the connection closed) once this settles (http/body.ts). */
    readonly drained?: Promise<void>,
  ) {
    super(String(body.error_description ?? body.error ?? status))
  }
}

export const badRequest = (description: string) => new HttpError(400, {error: 'invalid_request', error_description: description})
