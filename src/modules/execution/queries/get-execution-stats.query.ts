import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { ExecutionRepository, ExecutionStats } from '../repositories/execution.repository';

// Defined next to the statement that answers it; other contexts take it from here.
export type { ExecutionStats } from '../repositories/execution.repository';

/** The longest per-day window a caller may ask for: a year, leap day included. */
export const MAX_STATS_DAYS = 366;

/**
 * A user's runs in figures: totals, today's count, the success rate, the mean
 * duration, runs per language (all time), and the runs of each of the last
 * `days` UTC days. No ownership check: these are counts, not runs, and the
 * caller (a profile) decides whom it shows them to.
 */
export class GetExecutionStatsQuery extends Query<ExecutionStats> {
  constructor(
    readonly userId: string,
    readonly days = 30,
  ) {
    super();
  }
}

@QueryHandler(GetExecutionStatsQuery)
export class GetExecutionStatsHandler implements IQueryHandler<GetExecutionStatsQuery> {
  constructor(private readonly executions: ExecutionRepository) {}

  async execute({ userId, days }: GetExecutionStatsQuery): Promise<ExecutionStats> {
    if (!Number.isInteger(days) || days < 1 || days > MAX_STATS_DAYS) {
      throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', {
        fields: { days: [`days must be an integer from 1 to ${MAX_STATS_DAYS}`] },
      });
    }
    return this.executions.stats(userId, days);
  }
}
