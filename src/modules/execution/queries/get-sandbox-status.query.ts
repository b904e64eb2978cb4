import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { SandboxPool, SandboxStatus } from '../sandbox/sandbox-pool';

/** How code is isolated on this replica (for /health): bwrap, none (warned) or unavailable. */
export class GetSandboxStatusQuery extends Query<SandboxStatus> {}

@QueryHandler(GetSandboxStatusQuery)
export class GetSandboxStatusHandler implements IQueryHandler<GetSandboxStatusQuery> {
  constructor(private readonly sandboxes: SandboxPool) {}

  async execute(): Promise<SandboxStatus> {
    return this.sandboxes.status;
  }
}
