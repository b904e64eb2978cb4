/**
 * The layout's rules (ARCHITECTURE.md): contexts import one another only
 * through events/, exported queries/, commands/ (to ask another context to
 * act) and the module file; common/, config/ and database/ never import a
 * context.
 */
module.exports = {
  forbidden: [
    {
      name: 'contexts-only-through-events-and-queries',
      severity: 'error',
      comment: 'Another context may be used through its events/, queries/, commands/ (asking it to act) or *.module.ts only.',
      from: { path: '^src/modules/([^/]+)/' },
      to: {
        path: '^src/modules/([^/]+)/',
        pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/(events|queries|commands)/', '^src/modules/[^/]+/[^/]+\\.module\\.ts$'],
      },
    },
    {
      name: 'common-is-context-free',
      severity: 'error',
      from: { path: '^src/(common|config|database)/' },
      to: { path: '^src/modules/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '(^dist/|\\.spec\\.ts$)' },
  },
};
