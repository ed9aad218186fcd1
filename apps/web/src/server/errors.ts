/** A request the server refuses: an HTTP status and the one line the page shows. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The JSON error body every route returns: `{"error": "<one line>"}`. */
export function errorResponse(e: unknown): Response {
  if (e instanceof HttpError) return Response.json({ error: e.message }, { status: e.status });
  const name = (e as Error)?.name;
  if (name === 'ImageError') return Response.json({ error: (e as Error).message }, { status: 415 });
  console.error('[web] request failed:', e);
  return Response.json({ error: `the server failed on this request (${String((e as Error)?.message ?? e).split('\n')[0]})` }, { status: 500 });
}

/** The 405 answer of a route for a method it does not serve: a JSON error like every other, and `Allow`. */
export function methodNotAllowed(allowed: string): () => Response {
  return () => Response.json({ error: `this route answers ${allowed} only` }, { status: 405, headers: { allow: allowed } });
}
