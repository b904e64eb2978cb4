import type { UserEnvironmentEntity } from './entities/user-environment.entity';
import type { EnvironmentResponse } from './http/dto/environment.dto';

/** The wire shape of an environment: a whitelist (the directory shows only in /info). */
export function toEnvironmentResponse(row: UserEnvironmentEntity): EnvironmentResponse {
  return {
    id: row.id,
    user_id: row.userId,
    name: row.name,
    description: row.description,
    python_version: row.pythonVersion,
    backend: row.backend,
    is_public: row.isPublic,
    status: row.status,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
