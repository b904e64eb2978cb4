import type { QueryBus } from '@nestjs/cqrs';
import type { Actor } from '../../common/auth/ownership';
import { GetPlanQuery } from '../plans/queries/get-plan.query';

/** What a user may store: bytes a file, bytes in all (null: no limit; admins have none). */
export interface UploadLimits {
  fileBytes: number | null;
  storageBytes: number | null;
}

export async function uploadLimitsOf(queries: QueryBus, actor: Actor, level: string): Promise<UploadLimits> {
  if (actor.admin) return { fileBytes: null, storageBytes: null };
  const plan = await queries.execute(new GetPlanQuery(level));
  return { fileBytes: plan?.max_upload_bytes ?? null, storageBytes: plan?.storage_bytes ?? null };
}
