import { methodNotAllowed } from '../../../server/errors';
import { segment } from '../../../server/handlers';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const refuse = methodNotAllowed('POST');
export { refuse as GET, refuse as PUT, refuse as PATCH, refuse as DELETE };

export function POST(request: Request): Promise<Response> {
  return segment(request);
}
