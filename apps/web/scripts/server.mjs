// The production server (started by start.mjs): Next's request handler on Node's http server, with the timeouts a
// public demo needs — a client has 10 s to send its headers (one header line a second is cut off) and 2 minutes
// for the whole request, so slow clients cannot hold connections open.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.env.PORT || 3000);
const app = next({ dev: false, dir: web, port, hostname: 'localhost' });
await app.prepare();
const handle = app.getRequestHandler();
// (connectionsCheckingInterval: how often Node checks those timeouts; its default, 30 s, would let them run long)
const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 120_000, connectionsCheckingInterval: 1_000 }, (req, res) => handle(req, res));
server.keepAliveTimeout = 5_000;
server.listen(port, () => console.log(`Ready on http://localhost:${port}`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
