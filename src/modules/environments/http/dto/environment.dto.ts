import { ApiProperty, ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsNotIn, IsString, IsUUID, Length, Matches, MaxLength, ValidateBy, ValidationOptions,
} from 'class-validator';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { PageQuery, Pagination } from '../../../../common/http/pagination';
import { isRequirement, MAX_REQUIREMENT_LENGTH } from '../../requirement';
import { ApiRequestExample } from '../../../../common/http/swagger';

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const PYTHON_VERSION = /^3(?:\.\d{1,2}){0,2}$/;
const MAX_DESCRIPTION = 2000;
const MAX_PACKAGES = 50;
const RESERVED_NAMES = ['system'];

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** Each element a PEP 508 name with optional extras and version specifiers (no options, URLs or paths). */
const IsRequirementList = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isRequirementList',
      validator: {
        validate: (value: unknown) => Array.isArray(value) && value.every(isRequirement),
        defaultMessage: () => '$property must hold PEP 508 requirements: a package name with optional extras and version specifiers (no options, URLs or paths)',
      },
    },
    options,
  );

const packagesDoc: ApiPropertyOptions = { type: [String], example: ['requests==2.32.0', 'numpy>=1.26,<2'], maxItems: MAX_PACKAGES, description: `PEP 508 names with version specifiers; at most ${MAX_REQUIREMENT_LENGTH} characters each` };

// No packages and no python_version: both depend on the server (its package index, conda).
@ApiRequestExample({ name: 'data-science', description: 'For my notebooks' })
export class CreateEnvironmentRequest {
  @ApiProperty({ example: 'data-science', maxLength: 64, description: 'A slug (a-z, 0-9, -), unique among your environments; `system` is reserved' })
  @Transform(trim) @IsString() @Length(1, 64) @Matches(SLUG, { message: 'name must be a slug: lowercase letters, digits and single hyphens' }) @IsNotIn(RESERVED_NAMES, { message: 'name "system" is reserved' })
  name!: string;

  @ApiPropertyOptional({ default: '', maxLength: MAX_DESCRIPTION }) @IsOptionalNotNull() @IsString() @MaxLength(MAX_DESCRIPTION) description?: string;

  @ApiPropertyOptional({ example: '3.11', description: 'With conda available, a conda environment with this Python; otherwise it must match the server\'s Python' })
  @IsOptionalNotNull() @IsString() @Matches(PYTHON_VERSION, { message: 'python_version must look like 3, 3.11 or 3.11.4' })
  python_version?: string;

  @ApiPropertyOptional({ default: false }) @IsOptionalNotNull() @IsBoolean() is_public?: boolean;

  @ApiPropertyOptional(packagesDoc)
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(MAX_PACKAGES) @IsRequirementList()
  packages?: string[];
}

@ApiRequestExample({ description: 'Shared with the team', is_public: true })
export class UpdateEnvironmentRequest {
  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptionalNotNull() @Transform(trim) @IsString() @Length(1, 64) @Matches(SLUG, { message: 'name must be a slug: lowercase letters, digits and single hyphens' }) @IsNotIn(RESERVED_NAMES, { message: 'name "system" is reserved' })
  name?: string;

  @ApiPropertyOptional() @IsOptionalNotNull() @IsString() @MaxLength(MAX_DESCRIPTION) description?: string;
  @ApiPropertyOptional() @IsOptionalNotNull() @IsBoolean() is_public?: boolean;
}

export class AdminListEnvironmentsRequest extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only this user\'s environments' }) @IsOptionalNotNull() @IsUUID() user_id?: string;
}

@ApiRequestExample({ packages: ['requests==2.32.0'] })
export class InstallPackagesRequest {
  @ApiProperty({ ...packagesDoc, minItems: 1 } as ApiPropertyOptions)
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_PACKAGES) @IsRequirementList()
  packages!: string[];
}

export class EnvironmentResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) user_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ example: '3.11.2' }) python_version!: string;
  @ApiProperty({ enum: ['venv', 'conda'] }) backend!: string;
  @ApiProperty() is_public!: boolean;
  @ApiProperty({ enum: ['creating', 'ready'] }) status!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class EnvironmentListResponse {
  @ApiProperty({ type: [EnvironmentResponse] }) environments!: EnvironmentResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

export class AvailableEnvironment {
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null for the system environment' }) id!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['system', 'venv', 'conda'] }) backend!: string;
  @ApiProperty() python_version!: string;
  @ApiProperty() is_public!: boolean;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) owner_id!: string | null;
  @ApiProperty({ description: 'The caller owns it' }) own!: boolean;
}

export class AvailableEnvironmentsResponse {
  @ApiProperty({ type: [AvailableEnvironment], description: 'system first (on page 1), then own, then public ones of others' }) environments!: AvailableEnvironment[];
  @ApiProperty({ type: Pagination, description: 'total counts the system environment' }) pagination!: Pagination;
}

export class CondaEnvironmentsResponse {
  @ApiProperty({ description: 'conda, mamba or micromamba was found' }) conda_available!: boolean;
  @ApiProperty({ type: [String], description: 'Names of the environments conda knows' }) environments!: string[];
}

export class EnvironmentOwner {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true }) username!: string | null;
}

export class EnvironmentInfoResponse {
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) id!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['system', 'venv', 'conda'] }) backend!: string;
  @ApiProperty({ example: '3.11.2' }) python_version!: string;
  @ApiProperty({ description: 'The directory (the interpreter for the system environment)' }) path!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'Bytes of the directory; null for the system environment' }) size_bytes!: number | null;
  @ApiProperty() package_count!: number;
  @ApiProperty({ type: EnvironmentOwner, nullable: true }) owner!: EnvironmentOwner | null;
  @ApiProperty() is_public!: boolean;
  @ApiProperty({ description: 'The caller may not change its packages' }) read_only!: boolean;
}

export class PackageInfo {
  @ApiProperty({ example: 'requests' }) name!: string;
  @ApiProperty({ example: '2.32.0' }) version!: string;
}

export class PackageListResponse {
  @ApiProperty() environment!: string;
  @ApiProperty({ type: [PackageInfo] }) packages!: PackageInfo[];
}

export class InstallPackagesResponse {
  @ApiProperty({ format: 'uuid' }) environment_id!: string;
  @ApiProperty({ type: [String], description: 'The requirements installed' }) installed!: string[];
  @ApiProperty({ type: [PackageInfo], description: 'Everything installed afterwards' }) packages!: PackageInfo[];
}

export class UpgradePackageResponse {
  @ApiProperty({ format: 'uuid' }) environment_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() previous_version!: string;
  @ApiProperty() version!: string;
}

export class UninstallPackageResponse {
  @ApiProperty({ format: 'uuid' }) environment_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ example: true }) success!: boolean;
}

export class DeletedResponse {
  @ApiProperty({ example: true }) success!: boolean;
}
