import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError } from './app-error';
import { ErrorCode } from './error-code';

function collect(errors: ValidationError[], prefix: string, into: Record<string, string[]>): void {
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) into[field] = Object.values(error.constraints);
    if (error.children?.length) collect(error.children, field, into);
  }
}

/**
 * Global validation: unknown fields are rejected, types are converted, and every
 * failing field is listed in details.fields as { field: [messages] }.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const fields: Record<string, string[]> = {};
      collect(errors, '', fields);
      return new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields });
    },
  });
}
