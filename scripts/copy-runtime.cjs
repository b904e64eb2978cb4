// Copies the Python that runs inside sandboxes (src/modules/execution/sandbox/runtime:
// its .py files and protocol.json, not its tests) beside the compiled JavaScript in
// dist/, where python-runtime.ts reads it at start-up. tsc copies only what it compiles.
// Run by `npm run build`.
const { copyFileSync, mkdirSync, readdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const relative = join('src', 'modules', 'execution', 'sandbox', 'runtime');
const from = join(__dirname, '..', relative);
const to = join(__dirname, '..', 'dist', relative);

// Emptied first, so a file removed from the sources does not linger in dist/.
rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
for (const entry of readdirSync(from, { withFileTypes: true })) {
  if (entry.isFile() && /\.(py|json)$/.test(entry.name)) copyFileSync(join(from, entry.name), join(to, entry.name));
}
