import type { QueryBus } from '@nestjs/cqrs';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { GetPlanQuery } from '../plans/queries/get-plan.query';

/** What a user may store: bytes a file, bytes in all (null: no limit; admins have none). */
export interface UploadLimits {
  fileBytes: number | null;
  storageBytes: number | null;
}

/** The limits of a user's plan (`level`); an unknown plan is a server fault, never "unlimited". */
export async function uploadLimitsOf(queries: QueryBus, user: { admin: boolean; level: string }): Promise<UploadLimits> {
  if (user.admin) return { fileBytes: null, storageBytes: null };
  const plan = await queries.execute(new GetPlanQuery(user.level));
  if (!plan) throw new AppError(ErrorCode.INTERNAL_ERROR, `unknown plan ${user.level}`);
  return { fileBytes: plan.max_upload_bytes, storageBytes: plan.storage_bytes };
}
