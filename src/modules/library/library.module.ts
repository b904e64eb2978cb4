import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EnvironmentsModule } from '../environments/environments.module';
import { ExecutionModule } from '../execution/execution.module';
import { CreateSnippetHandler } from './commands/create-snippet.command';
import { DeleteSnippetHandler } from './commands/delete-snippet.command';
import { RunSnippetHandler } from './commands/run-snippet.command';
import { SaveSnippetHandler } from './commands/save-snippet.command';
import { UpdateSnippetHandler } from './commands/update-snippet.command';
import { SnippetEntity } from './entities/snippet.entity';
import { CodeLibraryController } from './http/code-library.controller';
import { CodesController } from './http/codes.controller';
import { UserCodeLibraryController } from './http/user-code-library.controller';
import { CountSnippetsHandler } from './queries/count-snippets.query';
import { GetSnippetHandler } from './queries/get-snippet.query';
import { ListSnippetsHandler } from './queries/list-snippets.query';
import { ListUserSnippetsHandler } from './queries/list-user-snippets.query';
import { SnippetRepository } from './repositories/snippet.repository';

const controllers = [CodeLibraryController, CodesController, UserCodeLibraryController];
const commandHandlers = [CreateSnippetHandler, UpdateSnippetHandler, DeleteSnippetHandler, SaveSnippetHandler, RunSnippetHandler];
const queryHandlers = [GetSnippetHandler, ListSnippetsHandler, ListUserSnippetsHandler, CountSnippetsHandler];
const repositories = [SnippetRepository];

/**
 * The snippet library (README: Code library); runs go through the execution
 * context's RunCodeCommand. GetPostCodeQuery (saving a post's code) is
 * declared here and answered by the community context, which depends on this one.
 */
@Module({
  // Execution: RunCodeCommand (running a snippet); environments: ResolveEnvironmentQuery (checking a snippet's environment_id).
  imports: [TypeOrmModule.forFeature([SnippetEntity]), ExecutionModule, EnvironmentsModule],
  controllers,
  providers: [...repositories, ...commandHandlers, ...queryHandlers],
})
export class LibraryModule {}
