import type { ProjectEntity } from './entities/project.entity';
import type { ProjectFileResponse, ProjectResponse } from './http/dto/project.dto';
import type { ProjectFile } from './project-file';

/** The wire shape of a project: a whitelist, so nothing else of the row (its owner) leaks. */
export function toProjectResponse(row: ProjectEntity, fileCount?: number): ProjectResponse {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type,
    repository_url: row.repositoryUrl,
    default_config: row.defaultConfig,
    ...(fileCount !== undefined && { file_count: fileCount }),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toProjectFileResponse(file: ProjectFile): ProjectFileResponse {
  return { path: file.path, size: file.size, hash: file.hash, updated_at: file.updatedAt.toISOString() };
}
