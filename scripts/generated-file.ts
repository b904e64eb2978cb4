import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a generated document at the repository root, or with `--check` on
 * the command line only compares it with the committed one and exits 1 when it
 * differs (CI: the committed file must be current).
 */
export function writeOrCheck(name: string, content: string, npmScript: string): void {
  const file = join(__dirname, '..', '..', name);
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {
      committed = '';
    }
    if (committed !== content) {
      console.error(`${name} is stale: run \`npm run ${npmScript}\` and commit the result.`);
      process.exit(1);
    }
    console.log(`${name} is up to date.`);
    return;
  }
  writeFileSync(file, content);
  console.log(`Wrote ${file}`);
}
