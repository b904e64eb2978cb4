import { Param, PipeTransform } from '@nestjs/common';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { isPackageName } from '../requirement';

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

class ParseWith implements PipeTransform<string, string> {
  constructor(
    private readonly name: string,
    private readonly valid: (value: string) => boolean,
    private readonly constraint: string,
  ) {}

  transform(value: string): string {
    if (!this.valid(value)) throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: { [this.name]: [this.constraint] } });
    return value;
  }
}

/** `:name` of /environments/:name: `system` or an environment's slug. */
export const EnvironmentNameParam = (): ParameterDecorator =>
  Param('name', new ParseWith('name', (v) => v.length <= 64 && SLUG.test(v), 'name must be an environment name (a slug)'));

/** `:package`: a bare distribution name, never an option, URL or path. */
export const PackageNameParam = (): ParameterDecorator =>
  Param('package', new ParseWith('package', isPackageName, 'package must be a package name (letters, digits, ".", "_", "-")'));
