import { Body, Controller, Delete, Get, Post, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiPayloadTooLargeResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { PageQuery } from '../../../common/http/pagination';
import { UuidParam } from '../../../common/http/uuid-param';
import { CreateProjectCommand } from '../commands/create-project.command';
import { DeleteProjectCommand } from '../commands/delete-project.command';
import { UpdateProjectCommand } from '../commands/update-project.command';
import { WriteProjectFilesCommand } from '../commands/write-project-files.command';
import { toProjectFileResponse, toProjectResponse } from '../project.mapper';
import { GetProjectQuery } from '../queries/get-project.query';
import { ListProjectFilesQuery } from '../queries/list-project-files.query';
import { ListProjectsQuery } from '../queries/list-projects.query';
import {
  CreateProjectRequest, DeletedResponse, ProjectFilesResponse, ProjectListResponse, ProjectResponse, UpdateProjectRequest, WriteProjectFilesRequest,
} from './dto/project.dto';

/** How many files a write sends and their bytes in all: never their paths or contents. */
const writtenFiles = (request: FastifyRequest) => {
  const files = (request.body as { files?: unknown } | undefined)?.files;
  if (!Array.isArray(files)) return {};
  const bytes = files.reduce((sum: number, file: { content?: unknown }) => sum + (typeof file?.content === 'string' ? Buffer.byteLength(file.content) : 0), 0);
  return { file_count: files.length, bytes };
};

const notFound = { description: 'No such project of mine (an admin: of anyone\'s)', type: ErrorResponse };

@ApiTags('projects')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('projects')
export class ProjectsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @Audit({ action: 'project.create', resourceType: 'project', resourceId: (r) => r.id, metadata: fieldsOf })
  @ApiOperation({ summary: 'Create a project' })
  @ApiCreatedResponse({ type: ProjectResponse })
  @ApiConflictResponse({ description: 'I already have a project with this name', type: ErrorResponse })
  async create(@CurrentUser() user: Principal, @Body() body: CreateProjectRequest): Promise<ProjectResponse> {
    return toProjectResponse(await this.commands.execute(new CreateProjectCommand(actorOf(user), body)));
  }

  @Get()
  @ApiOperation({ summary: 'My projects, newest first' })
  @ApiOkResponse({ type: ProjectListResponse })
  async list(@CurrentUser() user: Principal, @Query() query: PageQuery): Promise<ProjectListResponse> {
    const { rows, pagination } = await this.queries.execute(new ListProjectsQuery(user.user_id, query));
    return { projects: rows.map((row) => toProjectResponse(row)), pagination };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One of my projects (an admin: anyone\'s), with its file count' })
  @ApiOkResponse({ type: ProjectResponse })
  @ApiNotFoundResponse(notFound)
  async get(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<ProjectResponse> {
    const { project, fileCount } = await this.queries.execute(new GetProjectQuery(id, actorOf(user)));
    return toProjectResponse(project, fileCount);
  }

  @Put(':id')
  @Audit({ action: 'project.update', resourceType: 'project', metadata: fieldsOf })
  @ApiOperation({ summary: 'Change the fields given of one of my projects (an admin: anyone\'s)' })
  @ApiOkResponse({ type: ProjectResponse })
  @ApiNotFoundResponse(notFound)
  @ApiConflictResponse({ description: 'The owner already has a project with this name', type: ErrorResponse })
  async update(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: UpdateProjectRequest): Promise<ProjectResponse> {
    return toProjectResponse(await this.commands.execute(new UpdateProjectCommand(actorOf(user), id, body)));
  }

  @Delete(':id')
  @Audit({ action: 'project.delete', resourceType: 'project' })
  @ApiOperation({ summary: 'Delete one of my projects (an admin: anyone\'s) and its files; their bytes no longer count against my storage' })
  @ApiOkResponse({ type: DeletedResponse })
  @ApiNotFoundResponse(notFound)
  async remove(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeletedResponse> {
    await this.commands.execute(new DeleteProjectCommand(actorOf(user), id));
    return { success: true };
  }

  @Get(':id/files')
  @ApiOperation({ summary: 'The files of one of my projects (an admin: anyone\'s), by folder and name' })
  @ApiOkResponse({ type: ProjectFilesResponse })
  @ApiNotFoundResponse(notFound)
  async files(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<ProjectFilesResponse> {
    const files = await this.queries.execute(new ListProjectFilesQuery(id, actorOf(user)));
    return { files: files.map(toProjectFileResponse) };
  }

  @Put(':id/files')
  @Audit({ action: 'project.write_files', resourceType: 'project', metadata: writtenFiles })
  @ApiOperation({
    summary: 'Create or replace text files of one of my projects (an admin: anyone\'s): all of them or none',
    description:
      'Paths are folder and name (`/src/index.js`); missing folders are created. A path sent twice, or sent both as a file and as the folder ' +
      'of another file, answers 400. Each file counts against my plan\'s max_upload_bytes; what the request adds (a replaced file: only how much ' +
      'it grew) against its storage_bytes.',
  })
  @ApiOkResponse({ type: ProjectFilesResponse, description: 'The files written, in the order sent' })
  @ApiNotFoundResponse(notFound)
  @ApiConflictResponse({ description: 'A path names a folder, or a file stands where a folder of a path would be', type: ErrorResponse })
  @ApiPayloadTooLargeResponse({ description: 'FILE_TOO_LARGE (one file passes the plan\'s max_upload_bytes), STORAGE_QUOTA_EXCEEDED (the plan\'s storage_bytes) or PAYLOAD_TOO_LARGE (the request body)', type: ErrorResponse })
  async writeFiles(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: WriteProjectFilesRequest): Promise<ProjectFilesResponse> {
    const writer = { ...actorOf(user), level: user.level };
    const files = await this.commands.execute(new WriteProjectFilesCommand(writer, id, body.files));
    return { files: files.map(toProjectFileResponse) };
  }
}
