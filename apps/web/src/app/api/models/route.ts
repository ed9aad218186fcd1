import { methodNotAllowed } from '../../../server/errors';
import { models } from '../../../server/handlers';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const refuse = methodNotAllowed('GET');
export { refuse as POST, refuse as PUT, refuse as PATCH, refuse as DELETE };

export function GET(): Promise<Response> {
  return models();
}
