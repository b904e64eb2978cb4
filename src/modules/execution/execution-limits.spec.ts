import { readAppConfig } from '../../config/app-config';
import { ADMIN_LIMITS, nextUtcMidnight, resolveLimits } from './execution-limits';

const execution = readAppConfig({}).execution;
const free = { execution_timeout_seconds: 5, execution_memory_mb: 128 };

describe('resolveLimits', () => {
  it("gives the plan's limits when the request asks for nothing", () => {
    const { limits, problems } = resolveLimits(free, {}, execution);
    expect(problems).toEqual({});
    expect(limits).toMatchObject({ wallMs: 5000, memoryMb: 128, captureBytes: execution.captureBytes });
  });

  it('lets a request lower the limits', () => {
    expect(resolveLimits(free, { timeout_ms: 1000, memory_mb: 64 }, execution).limits).toMatchObject({ wallMs: 1000, memoryMb: 64 });
  });

  it('names each field that asks for more than the plan', () => {
    const { problems } = resolveLimits(free, { timeout_ms: 5001, memory_mb: 129 }, execution);
    expect(Object.keys(problems).sort()).toEqual(['memory_mb', 'timeout_ms']);
  });

  it('gives admins the admin limits whatever their plan', () => {
    expect(resolveLimits('admin', {}, execution).limits).toMatchObject({ wallMs: ADMIN_LIMITS.timeoutMs, memoryMb: ADMIN_LIMITS.memoryMb });
  });
});

describe('nextUtcMidnight', () => {
  it('is the next UTC midnight, across month and year ends', () => {
    expect(nextUtcMidnight(new Date('2026-11-30T23:59:59Z')).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(nextUtcMidnight(new Date('2026-12-31T00:00:00Z')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });
});
