/**
 * The layout's rules (docs/architecture.md): contexts import one another only
 * through events/, exported queries/, commands/ (to ask another context to
 * act) and the module file; commands and queries never import a context's
 * http/; common/, config/ and database/ never import a context.
 */
module.exports = {
  forbidden: [
    {
      name: 'contexts-only-through-events-and-queries',
      severity: 'error',
      comment:
        'Another context may be used through its events/, queries/, commands/ (asking it to act) or *.module.ts only. ' +
        'One exception: the files context\'s storage (Blobs, the file tree and storage usage, names and types) is the base ' +
        'other contexts keep their files on (projects now; deployments, chat attachments later), used inside their own transactions.',
      from: { path: '^src/modules/([^/]+)/' },
      to: {
        path: '^src/modules/([^/]+)/',
        pathNot: [
          '^src/modules/$1/',
          '^src/modules/[^/]+/(events|queries|commands)/',
          '^src/modules/[^/]+/[^/]+\\.module\\.ts$',
          '^src/modules/files/(storage/|repositories/(file|storage-usage)\\.repository\\.ts$|file-paths\\.ts$|content-type\\.ts$|upload-limits\\.ts$)',
        ],
      },
    },
    {
      name: 'use-cases-are-not-http',
      severity: 'error',
      comment: 'Commands and queries take and return their own types (the DTO classes may implement them): a use case must not depend on the HTTP layer that calls it.',
      from: { path: '^src/modules/[^/]+/(commands|queries)/' },
      to: { path: '^src/modules/[^/]+/http/' },
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
