import { Injectable, PipeTransform } from '@nestjs/common';
import { AppError } from '../errors/app-error';
import { ErrorCode } from '../errors/error-code';

/**
 * For routes that take no query parameters: `@Query(NoQueryPipe) _query: unknown`.
 * Any parameter answers 400 with the same details a DTO with forbidNonWhitelisted
 * gives, so a typo like `?acton=` fails loudly everywhere instead of being ignored.
 */
@Injectable()
export class NoQueryPipe implements PipeTransform {
  transform(value: unknown): unknown {
    const names = Object.keys((value as Record<string, unknown> | undefined) ?? {});
    if (names.length === 0) return value;
    const fields = Object.fromEntries(names.map((name) => [name, [`property ${name} should not exist`]]));
    throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields });
  }
}
