import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ExecutionEntity } from '../entities/execution.entity';
import { ExecutionRepository } from '../repositories/execution.repository';

/** One run of the caller's (any run for an admin); someone else's answers 404. */
export class GetExecutionQuery extends Query<ExecutionEntity> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(GetExecutionQuery)
export class GetExecutionHandler implements IQueryHandler<GetExecutionQuery> {
  constructor(private readonly executions: ExecutionRepository) {}

  async execute({ id, actor }: GetExecutionQuery): Promise<ExecutionEntity> {
    const row = await this.executions.findById(id);
    if (!row || !mayActOn(actor, row.userId)) throw AppError.notFound('Execution');
    return row;
  }
}
