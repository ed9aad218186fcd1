import { methodNotAllowed } from '../../../server/errors';
import { generate } from '../../../server/handlers';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const refuse = methodNotAllowed('GET');
export { refuse as POST, refuse as PUT, refuse as PATCH, refuse as DELETE };

export function GET(request: Request): Promise<Response> {
  return generate(request);
}
