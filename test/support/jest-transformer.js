// Jest runs modules as CommonJS. Our TypeScript is compiled here with the
// TypeScript compiler (per file, no type check: `npm run build` type-checks),
// and so are the ESM-only packages in node_modules (NestJS 12 ships ESM only),
// which plain Node 20 loads through require(esm) but Jest's module system cannot.
const ts = require('typescript');
const { createHash } = require('node:crypto');
const { existsSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const VERSION = '3';
const packageTypeCache = new Map();

function packageTypeOf(dir) {
  if (packageTypeCache.has(dir)) return packageTypeCache.get(dir);
  let type = 'commonjs';
  const file = join(dir, 'package.json');
  if (existsSync(file)) {
    try {
      type = JSON.parse(readFileSync(file, 'utf8')).type ?? 'commonjs';
    } catch {
      type = 'commonjs';
    }
  } else if (dirname(dir) !== dir) {
    type = packageTypeOf(dirname(dir));
  }
  packageTypeCache.set(dir, type);
  return type;
}

function isEsm(filename) {
  if (filename.endsWith('.mjs')) return true;
  if (filename.endsWith('.cjs') || filename.endsWith('.json')) return false;
  return packageTypeOf(dirname(filename)) === 'module';
}

function rewriteImportMeta(source) {
  return source
    // CommonJS already has `require`; a module-level redeclaration would be a SyntaxError.
    .replace(/^(\s*)const require\s*=\s*createRequire\(import\.meta\.url\);?/gm, '$1')
    .replace(/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href")
    .replace(/import\.meta\.dirname/g, '__dirname')
    .replace(/import\.meta\.filename/g, '__filename')
    .replace(/import\.meta\.resolve\(/g, "((s) => require('node:url').pathToFileURL(require.resolve(s)).href)(");
}

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  inlineSourceMap: true,
  inlineSources: true,
  allowJs: true,
};

module.exports = {
  getCacheKey(source, filename) {
    return createHash('sha1').update(VERSION).update(filename).update(source).digest('hex');
  },
  process(source, filename) {
    const typescript = filename.endsWith('.ts');
    if (!typescript && !isEsm(filename)) return { code: source };
    const input = typescript ? source : rewriteImportMeta(source);
    const output = ts.transpileModule(input, { compilerOptions, fileName: filename.replace(/\.mjs$/, '.js') });
    return { code: output.outputText };
  },
};
