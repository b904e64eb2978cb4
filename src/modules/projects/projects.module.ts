import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FilesModule } from '../files/files.module';
import { PlansModule } from '../plans/plans.module';
import { CreateProjectHandler } from './commands/create-project.command';
import { DeleteProjectHandler } from './commands/delete-project.command';
import { UpdateProjectHandler } from './commands/update-project.command';
import { WriteProjectFilesHandler } from './commands/write-project-files.command';
import { ProjectEntity } from './entities/project.entity';
import { ProjectsController } from './http/projects.controller';
import { GetProjectHandler } from './queries/get-project.query';
import { ListProjectFilesHandler } from './queries/list-project-files.query';
import { ListProjectsHandler } from './queries/list-projects.query';
import { ProjectRepository } from './repositories/project.repository';

const controllers = [ProjectsController];
const commandHandlers = [CreateProjectHandler, UpdateProjectHandler, DeleteProjectHandler, WriteProjectFilesHandler];
const queryHandlers = [GetProjectHandler, ListProjectsHandler, ListProjectFilesHandler];
const repositories = [ProjectRepository];

/** Projects: named, typed groups of text files, each project with a file tree of its own in the files context's storage. */
@Module({
  // Files: Blobs, FileRepository and StorageUsageRepository (a project's files are stored, counted and charged like any file);
  // plans: GetPlanQuery (max_upload_bytes and storage_bytes of the writer's plan).
  imports: [TypeOrmModule.forFeature([ProjectEntity]), FilesModule, PlansModule],
  controllers,
  providers: [...repositories, ...commandHandlers, ...queryHandlers],
})
export class ProjectsModule {}
