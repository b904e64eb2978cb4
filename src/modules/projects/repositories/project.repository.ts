import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { newestFirstPage } from '../../../common/database/newest-first-page';
import { ProjectEntity } from '../entities/project.entity';

/** Whether a write failed on the one-name-per-user constraint. */
export function isDuplicateName(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'projects_user_id_name_key';
}

/**
 * The `projects` table: every statement the projects context makes. Ownership
 * rules stay with the handlers; the conditional writes here take the owner the
 * handler checked, so they change nothing that check did not allow. Methods
 * that take an `EntityManager` run in the caller's transaction.
 */
@Injectable()
export class ProjectRepository {
  constructor(@InjectRepository(ProjectEntity) private readonly projects: Repository<ProjectEntity>) {}

  findById(id: string): Promise<ProjectEntity | null> {
    return this.projects.findOneBy({ id });
  }

  /** The owner's user id, or null when there is no such project. */
  async ownerOf(id: string): Promise<string | null> {
    const row = await this.projects.findOne({ select: { userId: true }, where: { id } });
    return row?.userId ?? null;
  }

  async insert(project: ProjectEntity): Promise<void> {
    await this.projects.insert(project);
  }

  /** Changes the project if it still belongs to `ownerId`; false when it does not (a concurrent delete won). */
  async updateOwned(id: string, ownerId: string, changes: Partial<ProjectEntity>): Promise<boolean> {
    const result = await this.projects.update({ id, userId: ownerId }, changes);
    return Boolean(result.affected);
  }

  /**
   * Locks the project's row until the transaction ends, if it still belongs to
   * `ownerId`. Every change to a project's files takes this lock first, so
   * writes to one project's files run one after the other, and a delete never
   * misses a file written while it lists them (the file's insert would wait, then
   * find the project gone).
   */
  async lockOwned(manager: EntityManager, id: string, ownerId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM projects WHERE id = $1 AND user_id = $2 FOR UPDATE`, [id, ownerId]);
    return rows.length > 0;
  }

  /** Deletes the project (its file rows cascade) if it still belongs to `ownerId`. */
  async deleteOwned(manager: EntityManager, id: string, ownerId: string): Promise<boolean> {
    const result = await manager.delete(ProjectEntity, { id, userId: ownerId });
    return Boolean(result.affected);
  }

  /** One page of a user's projects, newest first, and how many they have. */
  listNewestFirst(ownerId: string, page: { page: number; limit: number }): Promise<{ rows: ProjectEntity[]; total: number }> {
    const query = this.projects.createQueryBuilder('p').where('p.user_id = :ownerId', { ownerId });
    return newestFirstPage(query, { createdAt: 'p.created_at', id: 'p.id' }, page);
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.projects.manager.transaction(work);
  }
}
