import { methodNotAllowed } from '../../../server/errors';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const refuse = methodNotAllowed('GET');
export { refuse as POST, refuse as PUT, refuse as PATCH, refuse as DELETE };

/** GET /api/health: `{"ok": true}` while the server answers (nothing about the process). */
export function GET(): Response {
  return Response.json({ ok: true }, { headers: { 'cache-control': 'no-store' } });
}
