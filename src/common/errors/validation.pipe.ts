import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError } from './app-error';
import { ErrorCode } from './error-code';

function collect(errors: ValidationError[], prefix: string, into: Record<string, string[]>): void {
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) into[field] = Object.values(error.constraints);
    if (error.children?.length) collect(error.children, field, into);
  }
}

function validationError(fields: Record<string, string[]>): AppError {
  return new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields });
}

/**
 * Nest's pipe validates a JSON `null` body as `{}` (so it passes where every
 * field is optional) and an array or a scalar against a stand-in object, with
 * errors about its fields. A body validated by a DTO must be an object; only
 * a missing body (undefined) stands for `{}`.
 */
class AppValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const notAnObject = value === null || typeof value !== 'object' || Array.isArray(value);
    if (metadata.type === 'body' && value !== undefined && notAnObject && this.toValidate(metadata)) {
      throw validationError({ body: ['body must be a JSON object'] });
    }
    return super.transform(value, metadata);
  }
}

/**
 * Global validation: unknown fields are rejected, types are converted, and every
 * failing field is listed in details.fields as { field: [messages] }.
 */
export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const fields: Record<string, string[]> = {};
      collect(errors, '', fields);
      return validationError(fields);
    },
  });
}
