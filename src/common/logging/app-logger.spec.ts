import { AppLogger } from './app-logger';

/** A logger writing into an array of chunks. */
function captured(format: 'json' | 'pretty', level: 'info' | 'debug' = 'info'): { logger: AppLogger; chunks: string[] } {
  const chunks: string[] = [];
  return { logger: new AppLogger(level, format, { write: (text: string) => chunks.push(text) }), chunks };
}

describe('AppLogger', () => {
  it("logs Nest's module and route report at debug, the rest as asked", () => {
    const { logger, chunks } = captured('json');
    logger.log('Mapped {/api/v1/health, GET} route', 'RouterExplorer');
    logger.log('AppModule dependencies initialized', 'InstanceLoader');
    logger.log('CodeRunner listening on 0.0.0.0:3000', 'Bootstrap');
    expect(chunks).toHaveLength(1);
    expect(JSON.parse(chunks[0])).toMatchObject({ level: 30, context: 'Bootstrap', msg: 'CodeRunner listening on 0.0.0.0:3000' });

    const debug = captured('json', 'debug');
    debug.logger.log('Mapped {/api/v1/health, GET} route', 'RouterExplorer');
    expect(JSON.parse(debug.chunks[0])).toMatchObject({ level: 20, context: 'RouterExplorer' });
  });

  it('writes pretty lines: time, level, [context], message', () => {
    const { logger, chunks } = captured('pretty');
    logger.warn('Missing system packages: bubblewrap', 'Bootstrap');
    expect(chunks.join('')).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN.*: \[Bootstrap\] Missing system packages: bubblewrap\n$/);
  });

  it('frames a banner as plain text, in order with the lines around it, in either format', () => {
    for (const format of ['json', 'pretty'] as const) {
      const { logger, chunks } = captured(format);
      logger.log('before', 'Test');
      logger.banner(['First admin created', '  password: secret-1']);
      logger.log('after', 'Test');
      expect(chunks).toHaveLength(3);
      expect(chunks[1]).toBe(`\n${'='.repeat(24)}\n  First admin created\n    password: secret-1\n${'='.repeat(24)}\n\n`);
      expect(chunks[2]).toContain('after');
    }
  });
});
