// Runs graphql-http's own server audit against a URL and prints one JSON line per audit.
// Usage: node graphql_http_audit.mjs <node_modules dir> <url>
import { createRequire } from "node:module";
import path from "node:path";

const [modules, url] = process.argv.slice(2);
const require = createRequire(path.join(modules, "noop.js"));
const { auditServer } = require("graphql-http");
const results = await auditServer({ url });
for (const result of results) {
  console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status, reason: result.reason ?? null }));
}
